"""Lint: a notebook's asserts must test something that could be wrong.

An assert whose operands are all literals (``assert 2975 + 500 + 1525 == 5000``), or all names
bound to literals earlier in the same cell (``n = 5`` ... ``assert n == 5``), can never fail: it
checks the notebook's typing, not the course's code or data. Such an assert is rejected; the
notebook should compare a computed value with a reference, or simply show the number.
"""

from __future__ import annotations

import ast
import builtins

import pytest

from tests.notebook_utils import NOTEBOOKS, read


def _python_source(source: str) -> str:
    """The cell without IPython magics and shell escapes (they are not Python)."""
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())


_BUILTINS = frozenset(dir(builtins))


def _is_literal(node: ast.AST, literal_names: set[str]) -> bool:
    """True when ``node`` is built from constants and literal-bound names only.

    A call of a builtin counts as literal when all its arguments are (``abs(-2)``, ``round(2.4 / 9, 3)``);
    a call of anything else runs code that can be wrong (``f(3) == 9`` tests ``f``). Attributes,
    subscripts and other names are computed values (``result.flow``, ``maps[0]``... are not literals).
    """
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, ast.Name):
        return node.id in literal_names
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return all(_is_literal(e, literal_names) for e in node.elts)
    if isinstance(node, ast.Dict):
        return all(k is None or _is_literal(k, literal_names) for k in node.keys) and all(
            _is_literal(v, literal_names) for v in node.values)
    if isinstance(node, ast.UnaryOp):
        return _is_literal(node.operand, literal_names)
    if isinstance(node, ast.BinOp):
        return _is_literal(node.left, literal_names) and _is_literal(node.right, literal_names)
    if isinstance(node, ast.BoolOp):
        return all(_is_literal(v, literal_names) for v in node.values)
    if isinstance(node, ast.Compare):
        return _is_literal(node.left, literal_names) and all(_is_literal(c, literal_names) for c in node.comparators)
    if isinstance(node, ast.Call):
        args = [*node.args, *(k.value for k in node.keywords)]
        return (isinstance(node.func, ast.Name) and node.func.id in _BUILTINS and node.func.id not in literal_names
                and all(_is_literal(a, literal_names) for a in args))
    if isinstance(node, ast.Starred):
        return _is_literal(node.value, literal_names)
    return False


def literal_asserts(source: str) -> list[str]:
    """The asserts of one cell that can never fail, as source lines (empty: none).

    Statements are read in order; a name is literal-bound when its last assignment in the cell
    (before the assert) gives it a literal value, and loses that when it is assigned anything else.
    """
    try:
        tree = ast.parse(_python_source(source))
    except SyntaxError:
        return []
    literal_names: set[str] = set()
    found = []
    for node in _in_order(tree):
        if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            value = node.value
            literal = value is not None and _is_literal(value, literal_names) and not isinstance(node, ast.AugAssign)
            for target in targets:
                for name in (n.id for n in ast.walk(target) if isinstance(n, ast.Name)):
                    (literal_names.add if literal and isinstance(target, ast.Name) else literal_names.discard)(name)
        elif isinstance(node, (ast.For, ast.comprehension, ast.With, ast.NamedExpr)):
            bound = node.target if isinstance(node, (ast.For, ast.comprehension, ast.NamedExpr)) else None
            for name in (n.id for n in ast.walk(bound) if isinstance(n, ast.Name)) if bound is not None else ():
                literal_names.discard(name)
        elif isinstance(node, ast.Assert) and _is_literal(node.test, literal_names):
            found.append(ast.unparse(node))
    return found


def _in_order(tree: ast.AST):
    """Every node, statements in source order (a depth-first walk, unlike ``ast.walk``)."""
    yield tree
    for child in ast.iter_child_nodes(tree):
        yield from _in_order(child)


def test_the_rule_rejects_literal_asserts_and_keeps_real_ones():
    assert literal_asserts("assert 2975 + 500 + 1525 == 5000") == ["assert 2975 + 500 + 1525 == 5000"]
    assert literal_asserts("n = 5\nk = n * 2\nassert k == 10")
    assert literal_asserts("assert abs(-0.5) < 1")
    assert not literal_asserts("assert f(3) == 9")
    assert not literal_asserts("u = torch.tensor([1.0, 2.0])\nassert torch.allclose(u.exp().log(), u)")
    assert literal_asserts("x = 3\nassert x > 0, 'positive'")
    assert not literal_asserts("x = compute()\nassert x > 0")
    assert not literal_asserts("x = 3\nx = f(x)\nassert x == 3")
    assert not literal_asserts("assert result.flow == 10")
    assert not literal_asserts("assert np.isclose(F, 0.75)")
    assert not literal_asserts("for n in data:\n    assert n > 0")
    assert not literal_asserts("%matplotlib inline\nassert len(items) == 3")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_no_assert_that_cannot_fail(path):
    nb = read(path)
    bad = [(index, line) for index, cell in enumerate(nb.cells) if cell.cell_type == "code"
           for line in literal_asserts(cell.source)]
    assert not bad, (f"{path.name}: asserts that can never fail (their operands are literals or names bound to "
                     f"literals in the same cell); compare a computed value with a reference instead: {bad}")
