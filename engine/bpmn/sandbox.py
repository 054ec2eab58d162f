"""The script sandbox: every expression and script an uploaded diagram carries runs here.

Design. Source is parsed and checked by RestrictedPython's transformer, extended by `_Policy`:
no imports, classes, decorators, yield, global/nonlocal, with, match, bare `except:`, jumps out
of `finally`, print, names or attributes starting with `_`, calls of forbidden builtins. The
same pass rewrites the tree so that every attribute read, subscript, loop iteration, function
entry, growth operator (`+ - * ** << %`), f-string and `*`/`**` unpacking calls a guard of the
run's `RunState` (engine.bpmn.sandbox_guards). Guards allow attributes per type from an allow-list
(default deny: types, functions, frames, generators expose nothing; expressions may not call
mutating methods), check sizes before anything big is built (max_sequence items, max_int_bits,
format widths, rendered size of containers), feed set/dict construction through counted
iterators (so crafted hash collisions meet the deadline) and count iterations and calls; every
64 events they check the deadline, the iteration budget and the growth of resident memory. No
sys.settrace: a condition costs a few microseconds. Violations cannot be caught by scripts (no
base exception classes are exposed, bare `except:` and jumps out of `finally` are refused) and a
run that raised one fails regardless. Decimal arithmetic runs in a context whose exponents
match max_int_bits. Compiled code is cached per source text; what a run hands back must be
plain data of bounded size.

The language guards are the first line, not the only one: one C-level operation on in-budget
values is not interruptible (`x in big_list`, comparing two huge shared structures, a quadratic
codec), and the memory check samples. So scripts, and expressions not provably cheap
(`runs_in_process`), run in a worker process whose time and memory the kernel limits
(`engine.isolation`); the rule for what may stay in process is written above `runs_in_process`.
Host helpers passed as `extra` run unguarded (the platform's are bounded: see engine.sla.calendar).
"""

from __future__ import annotations

import ast
import copy
import datetime as dt
import decimal
import functools
import math
import textwrap
import threading
from collections.abc import Mapping, Sequence
from decimal import Decimal
from types import CodeType, ModuleType
from typing import Any
from zoneinfo import ZoneInfo

from RestrictedPython import compile_restricted_eval, compile_restricted_exec
from RestrictedPython.transformer import RestrictingNodeTransformer, copy_locations
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment

from engine import isolation
from engine.bpmn.sandbox_guards import (
    GROWTH_GUARDS,
    SCRIPT_FILENAME,
    Limits,
    RunState,
    SandboxResourceLimit,
    SandboxTimeout,
    SandboxViolation,
    TypeStandIn,
    checked_decimal,
    forbidden,
    safe_isinstance,
)

__all__ = [
    "Limits", "SandboxEnvironment", "SandboxResourceLimit", "SandboxTimeout", "SandboxViolation",
    "check_expression", "check_script", "default_helpers", "evaluate", "execute", "make_script_engine",
]

DEFAULT_LIMITS = Limits()
MAX_SOURCE_CHARS = 20_000
# Values a run hands back may be this many times max_sequence, counted as JSON would render them:
# far above real task data, far below what shared references can blow up to ([s] * n).
DATA_SIZE_FACTOR = 200
MAX_DATA_DEPTH = 64

FORBIDDEN_NAMES = frozenset(
    "eval exec compile open getattr setattr delattr hasattr globals locals vars type object breakpoint "
    "input help memoryview bytearray bytes dir iter next super classmethod staticmethod property "
    "exit quit id".split())
_EXCEPTIONS = (ValueError, TypeError, KeyError, IndexError, ZeroDivisionError, ArithmeticError, LookupError)
_STATIC_BUILTINS: dict[str, Any] = {
    "None": None, "True": True, "False": False, "len": len, "min": min, "max": max, "abs": abs,
    "float": float, "bool": bool, "list": list, "tuple": tuple, "sorted": sorted,
    "any": any, "all": all, "enumerate": enumerate, "zip": zip, "isinstance": safe_isinstance,
    **{name: forbidden(name) for name in FORBIDDEN_NAMES}, **{e.__name__: e for e in _EXCEPTIONS}}
_GROWTH_OPS: dict[type[ast.operator], str] = {
    ast.Add: "_add_", ast.Sub: "_sub_", ast.Mult: "_mul_", ast.Pow: "_pow_", ast.LShift: "_lshift_",
    ast.Mod: "_mod_"}
_CONVERSIONS = {-1: "", 115: "s", 114: "r", 97: "a"}
_IMPORT = "import is not allowed; use the helpers the platform provides"
_REFUSED: dict[type[ast.AST], str] = {
    ast.Import: _IMPORT, ast.ImportFrom: _IMPORT, ast.ClassDef: "class definitions are not allowed",
    ast.Yield: "yield is not allowed", ast.YieldFrom: "yield is not allowed",
    ast.Global: "global and nonlocal statements are not allowed",
    ast.Nonlocal: "global and nonlocal statements are not allowed", ast.With: "with statements are not allowed"}
_GUARD_NAMES = frozenset({
    "__builtins__", "_getattr_", "_getitem_", "_getiter_", "_write_", "_inplacevar_", "_apply_", "_tick_", "_star_",
    "_starstar_", "_fmt_", "_join_", "_unpack_sequence_", "_iter_unpack_sequence_", *GROWTH_GUARDS})
_LEAVES: tuple[type, ...] = (int, float, type(None), Decimal, dt.date, dt.timedelta)  # bool, datetime included
_KEYS = (str, int, float, type(None))
try:
    WIB: dt.tzinfo = ZoneInfo("Asia/Jakarta")
except (KeyError, OSError):  # no tz database: Jakarta has been UTC+7 without DST since 1964
    WIB = dt.timezone(dt.timedelta(hours=7), "WIB")


def _call(name: str, node: ast.AST, *args: ast.expr) -> ast.Call:
    call = ast.Call(func=ast.Name(id=name, ctx=ast.Load()), args=list(args), keywords=[])
    copy_locations(call, node)
    return call


def _ticking(node: ast.While | ast.FunctionDef) -> ast.While | ast.FunctionDef:
    """Make a loop body or function body count one step each time it starts."""
    tick = ast.Expr(value=_call("_tick_", node))
    copy_locations(tick, node)
    node.body.insert(0, tick)
    return node


def _finally_jump(node: ast.AST, in_loop: bool) -> ast.AST | None:
    """Find a return/break/continue that would leave a finally block (and swallow an exception)."""
    if isinstance(node, ast.Return) or (isinstance(node, ast.Break | ast.Continue) and not in_loop):
        return node
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda | ast.ClassDef):
        return None
    inner: Sequence[tuple[ast.AST, bool]]
    if isinstance(node, ast.For | ast.While):
        inner = [(child, True) for child in node.body] + [(child, in_loop) for child in node.orelse]
    else:
        inner = [(child, in_loop) for child in ast.iter_child_nodes(node)]
    for child, loop in inner:
        found = _finally_jump(child, loop)
        if found is not None:
            return found
    return None


class _Policy(RestrictingNodeTransformer):  # type: ignore[misc]
    """RestrictedPython's rules plus the platform's, and the rewrites that insert the guards."""

    def visit(self, node: ast.AST) -> Any:
        message = _REFUSED.get(type(node))
        if message is None:
            return super().visit(node)
        self.error(node, message)
        return node

    def visit_Name(self, node: ast.Name) -> Any:
        if node.id in ("print", "printed"):
            self.error(node, "print is not available: scripts have no output, assign variables instead")
            return node
        return super().visit_Name(node)

    def visit_Call(self, node: ast.Call) -> Any:
        if isinstance(node.func, ast.Name) and node.func.id in FORBIDDEN_NAMES:
            self.error(node, f"'{node.func.id}' is not available in scripts")
        return super().visit_Call(node)

    def visit_Attribute(self, node: ast.Attribute) -> Any:
        if not isinstance(node.ctx, ast.Load):
            self.error(node, "assigning or deleting attributes is not allowed")
        return super().visit_Attribute(node)

    def visit_Subscript(self, node: ast.Subscript) -> Any:
        if isinstance(node.ctx, ast.Store) and isinstance(node.slice, ast.Slice):
            self.error(node, "slice assignment is not allowed")
        return super().visit_Subscript(node)

    def visit_Try(self, node: ast.Try) -> Any:
        if any(handler.type is None for handler in node.handlers):
            self.error(node, "bare 'except:' is not allowed; name the exception, e.g. 'except ValueError:'")
        for stmt in node.finalbody:
            if _finally_jump(stmt, in_loop=False) is not None:
                self.error(stmt, "return, break or continue inside 'finally' is not allowed")
        return super().visit_Try(node)

    def visit_BinOp(self, node: ast.BinOp) -> Any:
        node = self.node_contents_visit(node)
        guard = _GROWTH_OPS.get(type(node.op))
        return node if guard is None else _call(guard, node, node.left, node.right)

    def visit_While(self, node: ast.While) -> Any:
        return _ticking(super().visit_While(node))

    def visit_FunctionDef(self, node: ast.FunctionDef) -> Any:
        if node.decorator_list:
            self.error(node, "decorators are not allowed")
        return _ticking(super().visit_FunctionDef(node))

    def visit_Lambda(self, node: ast.Lambda) -> Any:
        node = super().visit_Lambda(node)
        # _tick_() returns None, so `None or body` evaluates to the body.
        node.body = ast.BoolOp(op=ast.Or(), values=[_call("_tick_", node), node.body])
        copy_locations(node.body, node)
        return node

    def visit_Starred(self, node: ast.Starred) -> Any:
        node = super().visit_Starred(node)
        if isinstance(node.ctx, ast.Load):
            node.value = _call("_star_", node, node.value)
        return node

    def visit_Dict(self, node: ast.Dict) -> Any:
        node = super().visit_Dict(node)
        pairs = zip(node.keys, node.values, strict=True)
        node.values = [_call("_starstar_", v, v) if k is None else v for k, v in pairs]
        return node

    def visit_keyword(self, node: ast.keyword) -> Any:
        node = super().visit_keyword(node)
        if node.arg is None:
            node.value = _call("_starstar_", node.value, node.value)
        return node

    def visit_JoinedStr(self, node: ast.JoinedStr) -> Any:
        # f"..." becomes _join_((part, _fmt_(value, conversion, spec), ...)): sizes are checked before joining.
        parts = ast.Tuple(elts=[self.visit(value) for value in node.values], ctx=ast.Load())
        copy_locations(parts, node)
        return _call("_join_", node, parts)

    def visit_FormattedValue(self, node: ast.FormattedValue) -> Any:
        spec = node.format_spec
        pieces = spec.values if isinstance(spec, ast.JoinedStr) else []
        texts = [v.value for v in pieces if isinstance(v, ast.Constant) and isinstance(v.value, str)]
        if spec is not None and (not isinstance(spec, ast.JoinedStr) or len(texts) != len(pieces)):
            self.error(node, "nested {} inside an f-string format spec is not allowed")
            return node
        text = "".join(texts)
        args = (ast.Constant(_CONVERSIONS.get(node.conversion, "")), ast.Constant(text))
        for arg in args:
            copy_locations(arg, node)
        return _call("_fmt_", node, self.visit(node.value), *args)


@functools.lru_cache(maxsize=4096)
def _compile(source: str, mode: str) -> tuple[CodeType | None, str | None, bool]:
    """Compile source under the sandbox rules: (code, error, error_is_syntax)."""
    if len(source) > MAX_SOURCE_CHARS:
        return None, f"source is longer than {MAX_SOURCE_CHARS:,} characters", False
    try:
        # Scripts often arrive indented as the XML around them was.
        tree = ast.parse(source if mode == "eval" else textwrap.dedent(source), SCRIPT_FILENAME, mode)
    except SyntaxError as exc:
        return None, f"Line {exc.lineno}: SyntaxError: {exc.msg}", True
    except (ValueError, RecursionError, MemoryError) as exc:
        return None, f"source cannot be parsed: {exc}", True
    compiler = compile_restricted_eval if mode == "eval" else compile_restricted_exec
    try:
        result = compiler(tree, filename=SCRIPT_FILENAME, policy=_Policy)
    except (RecursionError, MemoryError):
        return None, "source is nested too deeply", False
    if result.errors:
        return None, "; ".join(result.errors), False
    return result.code, None, False


def _code(source: str, mode: str) -> CodeType:
    code, error, is_syntax = _compile(source, mode)
    if code is None:
        raise (SyntaxError if is_syntax else SandboxViolation)(error)
    return code


def check_expression(source: str) -> str | None:
    """Compile source as a sandboxed expression; return the problem, or None when it is fine."""
    return _compile(source.strip(), "eval")[1]


def check_script(source: str) -> str | None:
    """Compile source as a sandboxed script; return the problem, or None when it is fine."""
    return _compile(source, "exec")[1]


# ---------------------------------------------------------------- where a run happens
#
# Scripts, and expressions that are not provably cheap, run in a worker process whose time and
# memory the kernel limits (engine.isolation). An expression runs in the caller's process only when
# its cost is bounded by its own size times the size of the task data it reads: at most
# IN_PROCESS_MAX_CHARS characters, no loops (comprehensions, lambdas), no names bound (:=), no `*`
# unpacking, and calls only of the functions and methods below, each linear in its arguments. Its
# operators are still guarded (every value it builds has at most max_sequence items, nested ones
# counted), so such a condition costs microseconds and can cost at most milliseconds.

IN_PROCESS_MAX_CHARS = 400
_CHEAP_CALLS = frozenset(
    "len abs bool float int str round isinstance Decimal money date timedelta today now "
    "add_working_days after_working_days working_days_between add_working_hours after_working_hours".split())
_CHEAP_PAIRWISE = frozenset({"min", "max"})  # only as min(a, b, ...): over one iterable they walk all of it
_CHEAP_METHODS = frozenset(
    "get keys values items lower upper casefold strip lstrip rstrip startswith endswith isdigit isalpha "
    "isalnum isdecimal isnumeric isspace weekday isoweekday isoformat date total_seconds".split())
_CHEAP_NODES: tuple[type[ast.AST], ...] = (
    ast.Expression, ast.BoolOp, ast.BinOp, ast.UnaryOp, ast.Compare, ast.IfExp, ast.Constant, ast.Name,
    ast.Attribute, ast.Subscript, ast.Slice, ast.Tuple, ast.List, ast.Set, ast.Dict, ast.Call, ast.keyword,
    ast.JoinedStr, ast.FormattedValue, ast.expr_context, ast.boolop, ast.operator, ast.unaryop, ast.cmpop)


def _cheap_call(node: ast.Call) -> bool:
    if any(isinstance(arg, ast.Starred) for arg in node.args) or any(k.arg is None for k in node.keywords):
        return False
    func = node.func
    if isinstance(func, ast.Name):
        return func.id in _CHEAP_CALLS or (func.id in _CHEAP_PAIRWISE and len(node.args) >= 2)
    return isinstance(func, ast.Attribute) and func.attr in _CHEAP_METHODS


@functools.lru_cache(maxsize=4096)
def runs_in_process(source: str) -> bool:
    """Tell whether an expression is cheap enough by construction to run without a worker process."""
    source = source.strip()
    if len(source) > IN_PROCESS_MAX_CHARS:
        return False
    try:
        tree = ast.parse(source, SCRIPT_FILENAME, "eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return True  # compiling it in process reports the error; nothing runs
    return all(isinstance(node, _CHEAP_NODES) and (not isinstance(node, ast.Call) or _cheap_call(node))
               for node in ast.walk(tree))


def _merged(extra: Mapping[str, Any] | None, more: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    """The helpers a run sees: the environment's, then SpiffWorkflow's external context on top."""
    return {**extra, **more} if extra and more else extra or more


def _mark_line(exc: BaseException) -> None:
    """Note the failing script line on the exception: its traceback does not cross the process boundary."""
    line = exc.lineno if isinstance(exc, SyntaxError) else None
    tb = exc.__traceback__
    while tb is not None:
        line = tb.tb_lineno if tb.tb_frame.f_code.co_filename == SCRIPT_FILENAME else line
        tb = tb.tb_next
    if line:
        exc.script_line = line  # type: ignore[attr-defined]


def isolated_evaluate(source: str, data: Mapping[str, Any], limits: Limits, extra: Mapping[str, Any] | None,
                      more: Mapping[str, Any] | None) -> Any:
    """Evaluate an expression (in a worker process): `evaluate` with the failing line noted."""
    try:
        return evaluate(source, data, limits=limits, extra=_merged(extra, more))
    except Exception as exc:
        _mark_line(exc)
        raise


def isolated_execute(source: str, data: dict[str, Any], limits: Limits, extra: Mapping[str, Any] | None,
                     more: Mapping[str, Any] | None) -> dict[str, Any]:
    """Run a script (in a worker process) on its own copy of the data; return the data it leaves."""
    try:
        execute(source, data, limits=limits, extra=_merged(extra, more), copied=True)
    except Exception as exc:
        _mark_line(exc)
        raise
    return data


def _in_worker(func: Any, source: str, data: Mapping[str, Any], limits: Limits, extra: Mapping[str, Any] | None,
               more: Mapping[str, Any] | None) -> Any:
    """Run a sandbox entry point in a worker; the kernel's limits become the sandbox's violations."""
    bounds = isolation.ProcessLimits(wall_s=limits.timeout_s, memory_mb=limits.max_memory_mb)
    try:
        return isolation.run(func, source, data, limits, extra, more, limits=bounds)
    except isolation.IsolationLimit as exc:
        cls = SandboxTimeout if exc.limit in ("time", "cpu") else SandboxResourceLimit
        raise cls(f"script {exc.message} by the operating system") from None


_pool = threading.local()


def _acquire(limits: Limits, *, read_only: bool) -> RunState:
    """Reuse this thread's RunState when the limits match: building its guard table costs microseconds."""
    state: RunState | None = getattr(_pool, "state", None)
    if state is None or state.busy or not (state.limits is limits or state.limits == limits):
        state = RunState(limits, _STATIC_BUILTINS)
        if not getattr(_pool, "state", state).busy:
            _pool.state = state  # a nested run gets its own state and leaves the cached one alone
    state.reset(read_only=read_only)
    return state


def _namespace(state: RunState, data: Mapping[str, Any], extra: Mapping[str, Any] | None) -> dict[str, Any]:
    """Globals for one run: helpers, then task data; guards and builtins live in __builtins__."""
    names = {**_HELPERS, **extra, **data} if extra else {**_HELPERS, **data}
    for shadow in names.keys() & _GUARD_NAMES:
        del names[shadow]  # task data cannot be read under these names anyway; they must not hide guards
    names["__builtins__"] = state.builtins
    return names


def _where(exc: BaseException) -> str:
    """Name the innermost script line in exc's traceback."""
    line, tb = None, exc.__traceback__
    while tb is not None:
        line = tb.tb_lineno if tb.tb_frame.f_code.co_filename == SCRIPT_FILENAME else line
        tb = tb.tb_next
    return "" if line is None else f" (line {line})"


def _run(state: RunState, code: CodeType, names: dict[str, Any]) -> Any:
    saved = decimal.getcontext()
    state.busy = True
    decimal.setcontext(state.decimal_context)
    try:
        result = eval(code, names)  # noqa: S307 -- compiled by _compile under the sandbox policy
    except RecursionError as exc:
        raise SandboxResourceLimit(f"recursion too deep{_where(exc)}") from None
    except MemoryError:
        raise SandboxResourceLimit(f"out of memory (limit {state.limits.max_memory_mb} MB)") from None
    finally:
        decimal.setcontext(saved)
        state.busy = False
    if state.failure is not None:
        raise state.failure
    return result


def _check_data(value: Any, where: str, limits: Limits, *, stored: bool) -> None:
    """Refuse values that are not plain data, nest too deeply, or would render too large."""
    stack, size, limit = [(value, 0)], 0, limits.max_sequence * DATA_SIZE_FACTOR
    leaves, lists = (_LEAVES, (list, tuple)) if stored else (_LEAVES + (range,), (list, tuple, set, frozenset))
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            size += len(item) + 2
        elif isinstance(item, leaves):
            size += 8
            if stored and isinstance(item, float | Decimal) and not _finite(item):
                raise SandboxViolation(f"{where} holds {item}, which is not a finite number (case data cannot "
                                       "hold infinity or NaN)")
        elif isinstance(item, lists):
            size += 2 + len(item)
            stack.extend((child, depth + 1) for child in item)
        elif isinstance(item, dict) and (not stored or all(isinstance(key, _KEYS) for key in item)):
            size += 2 + 2 * len(item)
            stack.extend((child, depth + 1) for pair in item.items() for child in pair)
        else:
            raise SandboxViolation(f"{where} holds a {type(item).__name__}, which is not plain data "
                                   "(str, int, float, bool, None, list, dict with plain keys, Decimal, date)")
        if depth > MAX_DATA_DEPTH:
            raise SandboxResourceLimit(f"{where} is nested more than {MAX_DATA_DEPTH} levels deep "
                                       "(or contains itself)")
        if size > limit:
            raise SandboxResourceLimit(f"{where} is too large (more than {limit:,} items or characters)")


def _finite(number: float | Decimal) -> bool:
    return number.is_finite() if isinstance(number, Decimal) else math.isfinite(number)


def evaluate(source: str, data: Mapping[str, Any], *, limits: Limits = DEFAULT_LIMITS,
             extra: Mapping[str, Any] | None = None) -> Any:
    """Evaluate a sandboxed expression against task data and return its value."""
    code = _code(source.strip(), "eval")
    state = _acquire(limits, read_only=True)
    result = _run(state, code, _namespace(state, data, extra))
    if type(result) not in (bool, int, str, float, type(None)):
        _check_data(result, "the expression's value", limits, stored=False)
    return result


def execute(source: str, data: dict[str, Any], *, limits: Limits = DEFAULT_LIMITS,
            extra: Mapping[str, Any] | None = None, copied: bool = False) -> None:
    """Run a sandboxed script; on success update data with its variables, else leave data untouched.

    `copied` says data is already the run's own copy (a worker's), so it need not be copied again.
    """
    code = _code(source, "exec")
    state = _acquire(limits, read_only=False)
    names = _namespace(state, data if copied else copy.deepcopy(data), extra)
    _run(state, code, names)
    provided = {**_HELPERS, **extra} if extra else _HELPERS
    updates: dict[str, Any] = {}
    for key, value in names.items():
        if key.startswith("_") or (key in provided and value is provided[key]):
            continue  # guards, builtins and helpers; data keys starting with '_' stay as they were
        if callable(value) or isinstance(value, ModuleType):
            continue  # functions the script defined are its own business, not task data
        _check_data(value, f"task data '{key}'", limits, stored=True)
        updates[key] = value
    for key in [k for k in data if not k.startswith("_") and k not in updates]:
        del data[key]
    data.update(updates)


class SandboxEnvironment(BasePythonScriptEngineEnvironment):  # type: ignore[misc]
    """SpiffWorkflow script environment that runs everything through the sandbox."""

    def __init__(self, *, limits: Limits = DEFAULT_LIMITS, extra: Mapping[str, Any] | None = None) -> None:
        super().__init__(environment_globals={})
        self.limits = limits
        # Sent to worker processes with each run, so it must pickle (engine.sla.calendar.ScriptHelpers does).
        self.extra: Mapping[str, Any] = extra if extra is not None else {}

    def evaluate(self, expression: str, context: Mapping[str, Any],
                 external_context: Mapping[str, Any] | None = None) -> Any:
        """Evaluate an expression of the diagram (condition, timer, DMN cell, collection...)."""
        if runs_in_process(expression) or not isolation.enabled():
            return evaluate(expression, context, limits=self.limits, extra=_merged(self.extra, external_context))
        return _in_worker(isolated_evaluate, expression, dict(context), self.limits, self.extra, external_context)

    def execute(self, script: str, context: dict[str, Any],
                external_context: Mapping[str, Any] | None = None) -> bool:
        """Run a script task or pre/post script against the task data (in a worker process)."""
        if not isolation.enabled():
            execute(script, context, limits=self.limits, extra=_merged(self.extra, external_context))
            return True
        left = _in_worker(isolated_execute, script, context, self.limits, self.extra, external_context)
        context.clear()
        context.update(left)
        return True

    def call_service(self, context: Mapping[str, Any], **kwargs: Any) -> Any:
        """Refuse service calls: the sandbox has no way out."""
        raise SandboxViolation("service tasks cannot be called from the script sandbox")


def make_script_engine(*, limits: Limits = DEFAULT_LIMITS,
                       extra: Mapping[str, Any] | None = None) -> PythonScriptEngine:
    """Build a SpiffWorkflow script engine whose every evaluation runs in the sandbox."""
    return PythonScriptEngine(environment=SandboxEnvironment(limits=limits, extra=extra))


_ONE = Decimal(1)


def money(value: Any) -> Decimal:
    """Return value as a Decimal rounded half-up to whole rupiah."""
    amount = value if isinstance(value, Decimal) else checked_decimal(str(value) if isinstance(value, float) else value)
    return amount.quantize(_ONE, rounding=decimal.ROUND_HALF_UP)


def now() -> dt.datetime:
    """Return the current time in Jakarta (WIB) as an aware datetime."""
    return dt.datetime.now(WIB)


def today() -> dt.date:
    """Return today's date in Jakarta (WIB)."""
    return now().date()


def default_helpers() -> dict[str, Any]:
    """Return the helpers every script sees: Decimal, money, date, today, now, timedelta."""
    return dict(_HELPERS)


_HELPERS: dict[str, Any] = {
    "Decimal": TypeStandIn(Decimal, checked_decimal), "money": money, "date": dt.date, "today": today,
    "now": now, "timedelta": dt.timedelta}


def script_names() -> frozenset[str]:
    """Return every name a script sees besides its case data: builtins (allowed or refused) and helpers."""
    state = RunState(DEFAULT_LIMITS, _STATIC_BUILTINS)
    return frozenset(name for name in state.builtins if not name.startswith("_")) | frozenset(_HELPERS)
