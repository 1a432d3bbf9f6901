"""Prompts for coding tasks and extraction of the code from a model's answer.

ComplexityNet (Bae et al., 2023) labels an MBPP task by asking each model of a ladder for the
code only, under the function name the task's asserts call, and running the answer against
those asserts. This module holds the two ends of that exchange:

* :func:`build_messages` turns a task (instruction + asserts) into chat messages: a system
  prompt asking for code only, and a user message naming the function and showing the call
  exactly as the first assert makes it, so that the model picks the right name and arity
  without seeing any expected value.
* :func:`extract_code` turns whatever came back into a module that can be run before the
  asserts. Small models rarely answer with code only: they wrap it in fences or
  ``[PYTHON]`` tags, add prose, and append usage code (``print(f(...))``, their own asserts,
  a ``__main__`` block) that is often wrong even when the function is right. Only top-level
  imports, functions, classes and constants are kept, so that a correct function is not
  failed by the model's own broken example.
"""

from __future__ import annotations

import ast
import builtins
import re
import textwrap
import warnings

__all__ = ["SYSTEM_PROMPT", "build_messages", "entry_point", "extract_code"]

#: System message sent with every task. It states the two things the labels depend on: the
#: answer is code only (prose and examples are discarded anyway, but they cost tokens), and the
#: function keeps the name the tests call.
SYSTEM_PROMPT = (
    "You are an expert Python programmer. Answer with Python code only, in a single "
    "```python code block: no explanation, no example usage, no print statements and no "
    "tests. Define the function with exactly the name and arguments given by the user; "
    "include any imports and helper functions it needs."
)

_BUILTIN_NAMES = frozenset(dir(builtins))


def _first_task_call(tests: list[str]) -> ast.Call:
    """Return the call node of the tested function in the first assert of ``tests``.

    The tested function is the first call, in reading order, of a plain name that is not a
    builtin: MBPP asserts often wrap it, as in ``assert set(f(x)) == {...}`` or
    ``assert math.isclose(f(x), 1.0)``. If every called name is a builtin, the task redefines
    one and the first call is taken.
    """
    if not tests:
        raise ValueError("tests is empty: the function name is read from the first assert.")
    try:
        tree = ast.parse(tests[0].strip())
    except SyntaxError as exc:
        raise ValueError(f"The first test does not parse as Python: {tests[0]!r}") from exc
    # ast.walk is breadth-first, so order the calls by position to get reading order.
    calls = sorted(
        (node for node in ast.walk(tree) if isinstance(node, ast.Call)),
        key=lambda node: (node.lineno, node.col_offset),
    )
    named = [call for call in calls if isinstance(call.func, ast.Name)]
    for call in named:
        if call.func.id not in _BUILTIN_NAMES:
            return call
    # A few MBPP tasks shadow a builtin (``assert sum(10, 15) == 6``): then the outermost call.
    if named:
        return named[0]
    raise ValueError(f"No function call in the first test: {tests[0]!r}")


def entry_point(tests: list[str]) -> str:
    """Return the name of the function that the task's asserts call.

    Parameters
    ----------
    tests : list of str
        The task's test statements (MBPP's ``test_list``); only the first is read.

    Returns
    -------
    name : str
        The first non-builtin function called in the first test (or the first function
        called, if all are builtins: a task may redefine one).

    Raises
    ------
    ValueError
        If ``tests`` is empty, its first entry does not parse, or it calls no such function.

    Examples
    --------
    >>> entry_point(["assert remove_Occ('hello','l') == 'heo'"])
    'remove_Occ'
    >>> entry_point(["assert set(similar_elements((3, 4), (4, 5))) == set((4,))"])
    'similar_elements'
    """
    return _first_task_call(tests).func.id


def _call_signature(tests: list[str]) -> str:
    """Source text of the tested call in the first assert, e.g. ``"f(1, 2)"``."""
    source = tests[0].strip()
    call = _first_task_call(tests)
    return ast.get_source_segment(source, call) or f"{call.func.id}(...)"


def build_messages(instruction: str, tests: list[str]) -> list[dict]:
    """Build the chat messages asking a model to solve a coding task.

    Parameters
    ----------
    instruction : str
        The task in natural language (MBPP's ``text``).
    tests : list of str
        The task's asserts. Only the function name and the call of the first assert are
        shown to the model, never an expected value, so that the asserts stay a test.

    Returns
    -------
    messages : list of dict
        ``[{"role": "system", ...}, {"role": "user", ...}]`` in the OpenAI chat format, as
        every backend's ``generate`` takes.

    Examples
    --------
    >>> messages = build_messages(
    ...     "Write a python function to remove first and last occurrence of a given "
    ...     "character from the string.",
    ...     ["assert remove_Occ('hello','l') == 'heo'"],
    ... )
    >>> [m["role"] for m in messages]
    ['system', 'user']
    >>> print(messages[1]["content"])
    Write a python function to remove first and last occurrence of a given character from
    the string.
    The function must be named `remove_Occ`; it will be called like this: `remove_Occ('hello','l')`
    """
    name = entry_point(tests)
    user = (
        f"{instruction.strip()}\n"
        f"The function must be named `{name}`; it will be called like this: "
        f"`{_call_signature(tests)}`"
    )
    return [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": user},
    ]


# --------------------------------------------------------------------------------------------
# Extraction
# --------------------------------------------------------------------------------------------

# Code Llama's MBPP format; the closing tag is optional because generation may stop early.
_TAG_RE = re.compile(r"\[PYTHON\](.*?)(?:\[/PYTHON\]|\Z)", re.DOTALL | re.IGNORECASE)
# A fence opens at the start of a line and is closed by a bare ``` line (a "```python" line
# opens, it never closes); an unclosed last fence (max_tokens reached) runs to the end.
_FENCE_RE = re.compile(
    r"^[ \t]*```[ \t]*([\w+.-]*)[^\n]*\n(.*?)(?:^[ \t]*```[ \t]*$|\Z)",
    re.DOTALL | re.MULTILINE,
)
_FENCE_LINE_RE = re.compile(r"^[ \t]*```.*$", re.MULTILINE)
_NON_PYTHON_LANGS = frozenset(
    {"bash", "sh", "shell", "console", "text", "txt", "output", "json", "plaintext"}
)
# Lines where Python code may start after prose, for text that does not parse as a whole.
_CODE_START_RE = re.compile(
    r"^(?:def |async def |class |import |from \S+ import |@|[A-Za-z_][\w, ]*\s*=[^=])"
)
# Chat-template tokens that a raw completion may leave in the text.
_SPECIAL_TOKEN_RE = re.compile(r"<\|[^|>]*\|>|<end_of_turn>|<start_of_turn>(?:model|user)?|</s>")
# Above this many lines the quadratic line-based search is capped (model answers are short).
_MAX_FALLBACK_STARTS = 20


def _candidate_blocks(text: str) -> list[str]:
    """The code blocks an answer marks, then the whole answer without its fence lines.

    The whole answer comes last, for answers whose marks are wrong: code first, then a
    stray closing fence and prose, then a fenced copy cut off by the token limit.
    """
    blocks = [match.group(1) for match in _TAG_RE.finditer(text)]
    if not blocks:
        blocks = [
            match.group(2)
            for match in _FENCE_RE.finditer(text)
            if match.group(1).lower() not in _NON_PYTHON_LANGS
        ]
    # A tag block may itself hold fences; the fence lines are not Python.
    blocks = [_FENCE_LINE_RE.sub("", block) for block in blocks]
    blocks.append(_FENCE_LINE_RE.sub("", text))
    return [textwrap.dedent(block).strip("\n") for block in blocks if block.strip()] or [""]


def _defines(code: str, name: str) -> bool:
    return re.search(rf"^\s*(?:async\s+)?def\s+{re.escape(name)}\s*\(", code, re.M) is not None


def _choose_block(blocks: list[str], entry_point: str | None) -> str:
    """Prefer the block defining the entry point, then any block defining a function.

    The last candidate is the whole answer (see :func:`_candidate_blocks`), so a marked
    block wins over it, and it is used when no block defines what is looked for.
    """
    if entry_point is not None:
        for block in blocks:
            if _defines(block, entry_point):
                return block
    for block in blocks:
        if re.search(r"^\s*(?:async\s+)?def\s+\w+\s*\(", block, re.M):
            return block
    return blocks[0]


def _try_parse(code: str) -> ast.Module | None:
    # Model code is full of "\d" in plain strings; parsing it is not the place to warn.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", (SyntaxWarning, DeprecationWarning))
        try:
            return ast.parse(code)
        except (SyntaxError, ValueError):  # ValueError: source holds a null byte
            return None


def _parse_lenient(code: str) -> tuple[list[str], ast.Module] | None:
    """Parse ``code``, dropping leading prose and trailing garbage if it does not parse.

    Returns the lines that parsed and their tree. Starts are tried from the top (then from
    each line that looks like the start of code), and for each start the end is moved up one
    line at a time, so the longest parseable stretch from the earliest start wins. A tree
    defining a function is preferred over one without.
    """
    lines = code.splitlines()
    tree = _try_parse(code)
    if tree is not None:
        return lines, tree
    starts = [0] + [i for i, line in enumerate(lines) if i and _CODE_START_RE.match(line)]
    fallback = None
    for start in starts[:_MAX_FALLBACK_STARTS]:
        for end in range(len(lines), start, -1):
            chunk = lines[start:end]
            if not chunk[-1].strip():
                continue
            tree = _try_parse("\n".join(chunk))
            if tree is None:
                continue
            if any(isinstance(node, _DEF_NODES) for node in tree.body):
                return chunk, tree
            if fallback is None and tree.body:
                fallback = chunk, tree
            break  # a shorter chunk from this start defines no more
    return fallback


_DEF_NODES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_IMPORT_NODES = (ast.Import, ast.ImportFrom)


def _called_names(node: ast.AST) -> set[str]:
    return {
        call.func.id
        for call in ast.walk(node)
        if isinstance(call, ast.Call) and isinstance(call.func, ast.Name)
    }


def _keep(node: ast.stmt, defined: set[str]) -> bool:
    """Whether a top-level statement belongs to the solution rather than to its usage."""
    if isinstance(node, _DEF_NODES + _IMPORT_NODES):
        return True
    if isinstance(node, (ast.Assign, ast.AnnAssign)):
        # Constants and compiled patterns stay; ``result = f(...)`` is an example call.
        if node.value is None:
            return True
        return not (_called_names(node.value) & (defined | {"print", "input"}))
    if isinstance(node, ast.Try):
        # ``try: from math import gcd`` / ``except ImportError: ...`` is an import.
        parts = node.body + node.orelse + node.finalbody
        parts += [stmt for handler in node.handlers for stmt in handler.body]
        return all(isinstance(stmt, _IMPORT_NODES + _DEF_NODES + (ast.Pass,)) for stmt in parts)
    # Expressions (calls, prints, docstrings), asserts, loops, ``if __name__ == ...`` blocks.
    return False


def _statement_lines(node: ast.stmt) -> tuple[int, int]:
    """First and last line (1-based) of a top-level statement, decorators included."""
    first = min([node.lineno] + [dec.lineno for dec in getattr(node, "decorator_list", [])])
    return first, node.end_lineno


def _binding(tree_body: list[ast.stmt], entry_point: str) -> str:
    """``"entry_point = name"`` when the model named its solution otherwise, else ``""``."""
    functions = [
        node.name
        for node in tree_body
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
    ]
    if entry_point in functions or not functions:
        return ""
    # One function: it is the answer. Several: only a near-identical name is unambiguous
    # (``remove_occ`` for ``remove_Occ``); a helper must not be mistaken for the solution.
    if len(functions) == 1:
        chosen = functions[0]
    else:
        def key(name):
            return name.lower().replace("_", "")

        close = [name for name in functions if key(name) == key(entry_point)]
        if len(close) != 1:
            return ""
        chosen = close[0]
    return f"{entry_point} = {chosen}"


def extract_code(text: str, *, entry_point: str | None = None, bind_name: bool = False) -> str:
    """Extract the solution code from a model's answer.

    The code is taken from ``[PYTHON]...[/PYTHON]`` tags, else from fenced code blocks (the
    one defining ``entry_point``, else the first defining a function), else from the bare
    text. Of its top-level statements only imports, functions, classes, module constants and
    import-only ``try`` blocks are kept; example calls, prints, loops, asserts and
    ``if __name__ == "__main__":`` blocks are dropped, because the tests are run against
    the module and a model's own usage code is often broken. Text that does not parse (prose
    around the code, a line cut off by the token limit) is parsed from its first line that
    looks like code, trimming trailing lines until it parses.

    Parameters
    ----------
    text : str
        The model's answer.
    entry_point : str, optional
        The function the tests call; used to choose among several code blocks.
    bind_name : bool, default=False
        If True and ``entry_point`` is given but not defined, bind it to the model's function
        when that choice is unambiguous (the only function, or the only one whose name
        matches up to case and underscores), by appending ``entry_point = name``.

    Returns
    -------
    code : str
        The kept statements in their original text (comments inside functions included),
        ending with a newline; statements that were not on adjacent lines are separated by
        one blank line. ``""`` if nothing was kept.

    Examples
    --------
    >>> answer = '''Here is the function:
    ... ```python
    ... import re
    ...
    ... def remove_Occ(s, ch):
    ...     return s.replace(ch, "", 1)[::-1].replace(ch, "", 1)[::-1]
    ...
    ... print(remove_Occ("hello", "l"))
    ... assert remove_Occ("hello", "l") == "hlo"
    ... ```
    ... This removes the first and last occurrence.'''
    >>> print(extract_code(answer, entry_point="remove_Occ"))
    import re
    <BLANKLINE>
    def remove_Occ(s, ch):
        return s.replace(ch, "", 1)[::-1].replace(ch, "", 1)[::-1]
    <BLANKLINE>

    A renamed function is bound to the name the tests call:

    >>> print(extract_code("def add(a, b):\\n    return a + b", entry_point="sum_two",
    ...                    bind_name=True))
    def add(a, b):
        return a + b
    <BLANKLINE>
    sum_two = add
    <BLANKLINE>
    """
    text = _SPECIAL_TOKEN_RE.sub("", text)
    block = _choose_block(_candidate_blocks(text), entry_point)
    parsed = _parse_lenient(textwrap.dedent(block))
    if parsed is None:
        return ""
    lines, tree = parsed
    defined = {node.name for node in tree.body if isinstance(node, _DEF_NODES)}
    kept = [node for node in tree.body if _keep(node, defined)]
    if not kept:
        return ""
    code = ""
    previous_last = None
    for node in kept:
        first, last = _statement_lines(node)
        # Statements adjacent in the answer stay adjacent (an import block); anything that was
        # apart, or had dropped statements in between, gets one blank line.
        if previous_last is not None:
            code += "\n" if first == previous_last + 1 else "\n\n"
        code += "\n".join(lines[first - 1 : last]).rstrip()
        previous_last = last
    if bind_name and entry_point is not None and (binding := _binding(kept, entry_point)):
        code += "\n\n" + binding
    return code + "\n"
