"""Twenty small Python functions for the Fix / Improve quality bench: fourteen with a bug
of the kinds people really make (off-by-one, swapped arguments, a wrong start value, a
mutable default, a shared dict, a wrong formula), and six that work but are clumsy.

Each case has a check: Python statements run after the rewritten function that must pass
(for a Fix, they fail on the original; for an Improve, they pass on both and pin the
behaviour).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Case:
    name: str
    task: str  # "fix" or "improve"
    source: str
    check: str


CASES: tuple[Case, ...] = (
    Case(
        "is_even",
        "fix",
        "def is_even(n):\n    return n % 2 == 1\n",
        "assert is_even(2) and not is_even(3) and is_even(0)",
    ),
    Case(
        "last",
        "fix",
        "def last(items):\n    return items[len(items)]\n",
        "assert last([1, 2, 3]) == 3",
    ),
    Case(
        "clamp",
        "fix",
        "def clamp(x, lo, hi):\n    return max(hi, min(lo, x))\n",
        "assert clamp(5, 0, 10) == 5 and clamp(-1, 0, 10) == 0 and clamp(11, 0, 10) == 10",
    ),
    Case(
        "factorial",
        "fix",
        "def factorial(n):\n    result = 0\n    for i in range(1, n + 1):\n"
        "        result *= i\n    return result\n",
        "assert factorial(5) == 120 and factorial(0) == 1",
    ),
    Case(
        "reverse_words",
        "fix",
        'def reverse_words(sentence):\n    """The words of a sentence in reverse order."""\n'
        '    return " ".join(sentence.split(" ")[::1])\n',
        'assert reverse_words("a b c") == "c b a"',
    ),
    Case(
        "fib",
        "fix",
        "def fib(n):\n    if n < 2:\n        return n\n    return fib(n - 1) + fib(n - 3)\n",
        "assert [fib(i) for i in range(8)] == [0, 1, 1, 2, 3, 5, 8, 13]",
    ),
    Case(
        "is_palindrome",
        "fix",
        "def is_palindrome(text):\n    text = text.lower()\n    return text == reversed(text)\n",
        'assert is_palindrome("Aba") and not is_palindrome("abc")',
    ),
    Case(
        "sum_to",
        "fix",
        'def sum_to(n):\n    """Sum of the numbers 1..n, n included."""\n'
        "    return sum(range(n))\n",
        "assert sum_to(4) == 10 and sum_to(1) == 1",
    ),
    Case(
        "max_index",
        "fix",
        'def max_index(values):\n    """Index of the largest value."""\n    best = 0\n'
        "    for i in range(1, len(values)):\n        if values[i] < values[best]:\n"
        "            best = i\n    return best\n",
        "assert max_index([1, 5, 3]) == 1 and max_index([7, 2]) == 0",
    ),
    Case(
        "merge_dicts",
        "fix",
        'def merge_dicts(a, b):\n    """A new dict: the items of a, then b; a is unchanged."""\n'
        "    result = a\n    result.update(b)\n    return result\n",
        "a = {'x': 1}\nassert merge_dicts(a, {'y': 2}) == {'x': 1, 'y': 2} and a == {'x': 1}",
    ),
    Case(
        "append_item",
        "fix",
        "def append_item(item, items=[]):\n    items.append(item)\n    return items\n",
        "assert append_item(1) == [1] and append_item(2) == [2]",
    ),
    Case(
        "celsius_to_fahrenheit",
        "fix",
        "def celsius_to_fahrenheit(c):\n    return c * 5 / 9 + 32\n",
        "assert celsius_to_fahrenheit(100) == 212 and celsius_to_fahrenheit(0) == 32",
    ),
    Case(
        "chunks",
        "fix",
        'def chunks(items, size):\n    """items cut into lists of `size` items."""\n'
        "    return [items[i : i + size] for i in range(0, len(items), size + 1)]\n",
        "assert chunks([1, 2, 3, 4, 5], 2) == [[1, 2], [3, 4], [5]]",
    ),
    Case(
        "word_count",
        "fix",
        "def word_count(text):\n    counts = {}\n    for word in text.split():\n"
        "        counts[word] = counts[word] + 1\n    return counts\n",
        'assert word_count("a b a") == {"a": 2, "b": 1}',
    ),
    Case(
        "is_adult",
        "improve",
        "def is_adult(age):\n    if age >= 18:\n        return True\n    else:\n"
        "        return False\n",
        "assert is_adult(18) is True and is_adult(3) is False",
    ),
    Case(
        "squares",
        "improve",
        "def squares(n):\n    result = []\n    for i in range(n):\n"
        "        result.append(i * i)\n    return result\n",
        "assert squares(4) == [0, 1, 4, 9] and squares(0) == []",
    ),
    Case(
        "contains",
        "improve",
        "def contains(items, target):\n    found = False\n    for item in items:\n"
        "        if item == target:\n            found = True\n    return found\n",
        "assert contains([1, 2], 2) is True and contains([], 1) is False",
    ),
    Case(
        "join_names",
        "improve",
        'def join_names(names):\n    s = ""\n    for i in range(len(names)):\n'
        "        s = s + names[i]\n        if i != len(names) - 1:\n"
        '            s = s + ", "\n    return s\n',
        'assert join_names(["a", "b", "c"]) == "a, b, c" and join_names([]) == ""',
    ),
    Case(
        "get_value",
        "improve",
        "def get_value(d, key):\n    if key in d.keys():\n        return d[key]\n    else:\n"
        "        return None\n",
        "assert get_value({'a': 1}, 'a') == 1 and get_value({}, 'a') is None",
    ),
    Case(
        "count_positive",
        "improve",
        "def count_positive(values):\n    count = 0\n    for v in values:\n"
        "        if v > 0:\n            count = count + 1\n    return count\n",
        "assert count_positive([1, -2, 3, 0]) == 2 and count_positive([]) == 0",
    ),
)
