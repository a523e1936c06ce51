func (c *Cache[K, V]) Get(key K) (value V, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, hit := c.index[key]; hit {
		c.recency.MoveToFront(el)
		return el.Value.(*entry[K, V]).value, true
	}
	return value, false
}

func (c *Cache[K, V]) Put(key K, value V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, hit := c.index[key]; hit {
		c.recency.MoveToFront(el)
		el.Value.(*entry[K, V]).value = value
		return
	}
	c.index[key] = c.recency.PushFront(&entry[K, V]{key: key, value: value})
	if c.recency.Len() > c.maxEntries {
		c.evictOldest()
	}
}

func (c *Cache[K, V]) Remove(key K) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, hit := c.index[key]
	if !hit {
		return false
	}
	c.recency.Remove(el)
	delete(c.index, key)
	return true
}
