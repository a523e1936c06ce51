"""Data files shipped with search_api (the default policy)."""
