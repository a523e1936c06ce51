/*
 * Copyright (c) 2024 tinyco
 *
 * Permission is hereby granted, free of charge, to any person obtaining a copy
 * of this software and associated documentation files (the "Software"), to deal
 * in the Software without restriction, including without limitation the rights
 * to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
 * copies of the Software, and to permit persons to whom the Software is
 * furnished to do so, subject to the following conditions:
 *
 * The above copyright notice and this permission notice shall be included in
 * all copies or substantial portions of the Software.
 *
 * THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
 * IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
 * FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
 * AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
 * LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
 * OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN
 * THE SOFTWARE.
 */
package tinyco;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** A prefix tree over strings with word counts and ranked completion. */
public final class Trie {
    private static final class Node {
        final Map<Character, Node> children = new TreeMap<>();
        int wordCount;
        int passCount;
    }

    private final Node root = new Node();
    private int size;

    /** Adds one occurrence of {@code word}. */
    public void insert(String word) {
        Node node = root;
        node.passCount++;
        for (int i = 0; i < word.length(); i++) {
            node = node.children.computeIfAbsent(word.charAt(i), c -> new Node());
            node.passCount++;
        }
        if (node.wordCount++ == 0) {
            size++;
        }
    }

    /** How many times {@code word} was inserted. */
    public int count(String word) {
        Node node = find(word);
        return node == null ? 0 : node.wordCount;
    }

    /** How many inserted words (with repetitions) start with {@code prefix}. */
    public int countPrefix(String prefix) {
        Node node = find(prefix);
        return node == null ? 0 : node.passCount;
    }

    public int size() {
        return size;
    }

    /** Up to {@code limit} words starting with {@code prefix}, most frequent first. */
    public List<String> complete(String prefix, int limit) {
        List<String> words = new ArrayList<>();
        Node start = find(prefix);
        if (start != null) {
            collect(start, new StringBuilder(prefix), words);
        }
        words.sort((a, b) -> Integer.compare(count(b), count(a)));
        return words.size() > limit ? words.subList(0, limit) : words;
    }

    private void collect(Node node, StringBuilder path, List<String> out) {
        if (node.wordCount > 0) {
            out.add(path.toString());
        }
        for (Map.Entry<Character, Node> child : node.children.entrySet()) {
            path.append(child.getKey());
            collect(child.getValue(), path, out);
            path.setLength(path.length() - 1);
        }
    }

    private Node find(String prefix) {
        Node node = root;
        for (int i = 0; i < prefix.length() && node != null; i++) {
            node = node.children.get(prefix.charAt(i));
        }
        return node;
    }
}
