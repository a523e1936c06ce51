// Copyright 2024 Acme Ring Buffer Authors
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

//! A fixed-capacity ring buffer that overwrites its oldest element when full.

use std::fmt;

/// A circular buffer of at most `capacity` elements.
pub struct RingBuffer<T> {
    slots: Vec<Option<T>>,
    head: usize,
    len: usize,
}

impl<T> RingBuffer<T> {
    /// An empty buffer holding at most `capacity` elements (at least one).
    pub fn with_capacity(capacity: usize) -> Self {
        assert!(capacity > 0, "a ring buffer needs room for at least one element");
        let mut slots = Vec::with_capacity(capacity);
        slots.resize_with(capacity, || None);
        RingBuffer { slots, head: 0, len: 0 }
    }

    pub fn capacity(&self) -> usize {
        self.slots.len()
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Appends `value`; when the buffer is full the oldest element is dropped and returned.
    pub fn push_back(&mut self, value: T) -> Option<T> {
        let cap = self.capacity();
        let tail = (self.head + self.len) % cap;
        if self.len == cap {
            let evicted = self.slots[tail].replace(value);
            self.head = (self.head + 1) % cap;
            evicted
        } else {
            self.slots[tail] = Some(value);
            self.len += 1;
            None
        }
    }

    /// Removes and returns the oldest element.
    pub fn pop_front(&mut self) -> Option<T> {
        if self.len == 0 {
            return None;
        }
        let value = self.slots[self.head].take();
        self.head = (self.head + 1) % self.capacity();
        self.len -= 1;
        value
    }

    /// The element `index` places after the oldest one.
    pub fn get(&self, index: usize) -> Option<&T> {
        if index >= self.len {
            return None;
        }
        self.slots[(self.head + index) % self.capacity()].as_ref()
    }

    pub fn iter(&self) -> impl Iterator<Item = &T> + '_ {
        (0..self.len).filter_map(move |i| self.get(i))
    }
}

impl<T: fmt::Debug> fmt::Debug for RingBuffer<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::RingBuffer;

    #[test]
    fn overwrites_the_oldest_element() {
        let mut ring = RingBuffer::with_capacity(3);
        for i in 0..5 {
            ring.push_back(i);
        }
        assert_eq!(ring.iter().copied().collect::<Vec<_>>(), vec![2, 3, 4]);
        assert_eq!(ring.pop_front(), Some(2));
        assert_eq!(ring.len(), 2);
    }
}
