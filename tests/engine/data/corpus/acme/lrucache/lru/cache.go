// Copyright 2024 Acme Cache Authors
//
// Licensed under the Apache License, Version 2.0 (the "License");
// you may not use this file except in compliance with the License.
// You may obtain a copy of the License at
//
//     http://www.apache.org/licenses/LICENSE-2.0
//
// Unless required by applicable law or agreed to in writing, software
// distributed under the License is distributed on an "AS IS" BASIS,
// WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
// See the License for the specific language governing permissions and
// limitations under the License.

// Package lru implements a size-bounded least-recently-used cache that is
// safe for concurrent use.
package lru

import (
	"container/list"
	"sync"
)

// entry is what the recency list holds: the key is kept so that evicting the
// back element can also delete it from the index map.
type entry[K comparable, V any] struct {
	key   K
	value V
}

// Cache keeps at most maxEntries values; adding one more evicts the value
// that was used least recently. OnEvicted, when set, is told about evictions.
type Cache[K comparable, V any] struct {
	mu         sync.Mutex
	maxEntries int
	recency    *list.List
	index      map[K]*list.Element
	OnEvicted  func(key K, value V)
}

// New returns an empty cache holding at most maxEntries values.
func New[K comparable, V any](maxEntries int) *Cache[K, V] {
	if maxEntries <= 0 {
		panic("lru: maxEntries must be positive")
	}
	return &Cache[K, V]{
		maxEntries: maxEntries,
		recency:    list.New(),
		index:      make(map[K]*list.Element, maxEntries),
	}
}

// Get returns the value stored under key and marks it as recently used.
func (c *Cache[K, V]) Get(key K) (value V, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, hit := c.index[key]; hit {
		c.recency.MoveToFront(el)
		return el.Value.(*entry[K, V]).value, true
	}
	return value, false
}

// Put stores value under key, evicting the least recently used value when the
// cache is full.
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

// Remove deletes key from the cache and reports whether it was there.
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

// Len is the number of values in the cache.
func (c *Cache[K, V]) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.recency.Len()
}

func (c *Cache[K, V]) evictOldest() {
	el := c.recency.Back()
	if el == nil {
		return
	}
	c.recency.Remove(el)
	kv := el.Value.(*entry[K, V])
	delete(c.index, kv.key)
	if c.OnEvicted != nil {
		c.OnEvicted(kv.key, kv.value)
	}
}
