"""A fixed-size ledger that keeps the most recent entries and their running balance."""

from collections import deque


class RingLedger:
    """Keeps the last `capacity` postings; the balance always covers every posting ever made."""

    def __init__(self, capacity=16, opening_balance=0):
        if capacity < 1:
            raise ValueError("a ledger needs room for at least one posting")
        self._postings = deque(maxlen=capacity)
        self._balance = opening_balance
        self._evicted_total = 0

    def post(self, memo, amount):
        if len(self._postings) == self._postings.maxlen:
            _, oldest_amount = self._postings[0]
            self._evicted_total += oldest_amount
        self._postings.append((memo, amount))
        self._balance += amount
        return self._balance

    def recent(self, count=5):
        window = list(self._postings)[-count:]
        return [f"{memo:<24}{amount:>12.2f}" for memo, amount in window]

    def audit(self):
        visible = sum(amount for _, amount in self._postings)
        drift = self._balance - visible - self._evicted_total
        return {"visible": visible, "evicted": self._evicted_total, "drift": round(drift, 6)}
