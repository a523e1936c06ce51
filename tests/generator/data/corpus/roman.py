"""Roman numerals for the chapter headings of the print layout."""

NUMERAL_TABLE = [
    (1000, "M"),
    (900, "CM"),
    (500, "D"),
    (400, "CD"),
    (100, "C"),
    (90, "XC"),
    (50, "L"),
    (40, "XL"),
    (10, "X"),
    (9, "IX"),
    (5, "V"),
    (4, "IV"),
    (1, "I"),
]


def to_roman(number):
    if not 0 < number < 4000:
        raise ValueError(f"chapter number {number} is outside 1..3999")
    pieces = []
    for value, symbol in NUMERAL_TABLE:
        count, number = divmod(number, value)
        pieces.append(symbol * count)
    return "".join(pieces)


def from_roman(text):
    lookup = {symbol: value for value, symbol in NUMERAL_TABLE if len(symbol) == 1}
    total = 0
    for current, following in zip(text, text[1:] + " "):
        value = lookup[current]
        total += -value if lookup.get(following, 0) > value else value
    return total


def chapter_heading(number, title):
    return f"Chapter {to_roman(number)}. {title.strip().title()}"
