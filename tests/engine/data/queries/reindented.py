chunks.reverse()

while chunks:
  cur_line: list[str] = []
  cur_len = 0

  if lines:
    indent = self.subsequent_indent
  else:
    indent = self.initial_indent

  width = self.width-term_len(indent)

  if self.drop_whitespace and chunks[-1].strip() == "" and lines:
    del chunks[-1]

  while chunks:
    n = term_len(chunks[-1])

    if cur_len+n<=width:
      cur_line.append(chunks.pop())
      cur_len += n

    else:
      break

  if chunks and term_len(chunks[-1]) > width:
    self._handle_long_word(chunks, cur_line, cur_len, width)
    cur_len = sum(map(term_len, cur_line))

  if self.drop_whitespace and cur_line and cur_line[-1].strip() == "":
    cur_len -= term_len(cur_line[-1])
    del cur_line[-1]
