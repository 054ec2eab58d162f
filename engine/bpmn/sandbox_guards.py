"""Run-time half of the script sandbox: limits, budgets and the guards compiled code calls.

`engine.bpmn.sandbox` rewrites every attribute read, subscript, loop, call entry, growth operator
(`+ - * ** << %`), f-string field and `*`/`**` unpacking into a call to a method of the
`RunState` of the current run. Those methods refuse what is unsafe and keep the budgets; the
module docstring of `engine.bpmn.sandbox` explains the overall design.
"""

from __future__ import annotations

import datetime as dt
import decimal
import functools
import math
import operator
import os
import re
import string
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sized
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, NoReturn

from RestrictedPython.Guards import guarded_iter_unpack_sequence, guarded_unpack_sequence

# SpiffWorkflow looks for frames of this file name to report the failing line of a script.
SCRIPT_FILENAME = "<string>"


class SandboxViolation(Exception):
    """Code broke a sandbox rule."""


class SandboxTimeout(SandboxViolation):
    """Code ran longer than its time limit."""


class SandboxResourceLimit(SandboxViolation):
    """Code would allocate or compute more than its limits allow."""


@dataclass(frozen=True)
class Limits:
    """Budgets of one evaluation."""

    timeout_s: float = 0.5
    max_sequence: int = 100_000
    max_int_bits: int = 4096
    max_iterations: int = 1_000_000
    max_memory_mb: int = 128


def script_line() -> int | None:
    """Return the line of the innermost sandboxed frame on the current stack, if any."""
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_code.co_filename == SCRIPT_FILENAME:
            return frame.f_lineno
        frame = frame.f_back  # type: ignore[assignment]
    return None


def violation(cls: type[SandboxViolation], message: str) -> SandboxViolation:
    """Build a violation whose message names the script line being run."""
    line = script_line()
    return cls(message if line is None else f"{message} (line {line})")


class TypeStandIn:
    """A builtin type as scripts see it: callable with guarded construction, attributes out of reach."""

    __slots__ = ("make", "real")

    def __init__(self, real: type, make: Callable[..., Any]) -> None:
        self.real = real
        self.make = make

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.make(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<class '{self.real.__name__}'>"


def _refuse_call(name: str, *args: Any, **kwargs: Any) -> NoReturn:
    raise violation(SandboxViolation, f"'{name}' is not available in scripts")


def forbidden(name: str) -> Callable[..., NoReturn]:
    """Return what a forbidden builtin name resolves to: an inert object whose call is a violation."""
    return functools.partial(_refuse_call, name)


def _real_types(classinfo: Any) -> Any:
    if isinstance(classinfo, TypeStandIn):
        return classinfo.real
    if isinstance(classinfo, tuple):
        return tuple(_real_types(c) for c in classinfo)
    return classinfo


def safe_isinstance(obj: Any, classinfo: Any) -> bool:
    """Return isinstance(obj, classinfo), seeing through the stand-ins of builtin types."""
    return isinstance(obj, _real_types(classinfo))


def checked_decimal(value: Any = "0") -> Decimal:
    """Return Decimal(value), refusing exponents the active decimal context could not hold."""
    number = Decimal(value)
    if not number.is_finite():
        raise violation(SandboxViolation, f"Decimal({str(value)[:40]!r}) is not a finite number; case data holds "
                                          "only numbers (no infinity or NaN)")
    ctx = decimal.getcontext()
    if number.is_finite() and not ctx.Etiny() <= number.adjusted() <= ctx.Emax:
        raise violation(SandboxResourceLimit, f"Decimal exponent {number.adjusted()} is out of range")
    return number


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Default deny: only these attributes of these exact types can be read by scripts.
_STR_PAD = _words("ljust rjust center zfill")
_STR_ATTRS = _STR_PAD | _words(
    "capitalize casefold count encode endswith expandtabs find format format_map index isalnum isalpha "
    "isascii isdecimal isdigit isidentifier islower isnumeric isspace istitle isupper join lower lstrip "
    "partition removeprefix removesuffix replace rfind rindex rpartition rsplit rstrip split splitlines "
    "startswith strip swapcase title upper")
_SET_READ = _words("copy union intersection difference symmetric_difference issubset issuperset isdisjoint")
_INT_ATTRS = _words("bit_length real imag numerator denominator conjugate")
_DATE_ATTRS = _words("year month day weekday isoweekday isoformat isocalendar replace strftime toordinal")
_TIME_ATTRS = _words("hour minute second microsecond isoformat replace strftime")
_ATTRS: dict[type, frozenset[str]] = {
    str: _STR_ATTRS,
    bytes: _words("decode"),
    list: _words("append extend insert pop remove index count sort reverse copy clear"),
    dict: _words("keys values items get pop popitem setdefault update copy clear"),
    set: _SET_READ | _words("add discard remove pop clear update intersection_update difference_update"),
    frozenset: _SET_READ,
    tuple: _words("count index"),
    range: _words("start stop step count index"),
    int: _INT_ATTRS,
    bool: _INT_ATTRS,
    float: _words("is_integer real imag conjugate as_integer_ratio"),
    Decimal: _words("quantize to_integral_value normalize is_zero is_signed is_finite is_nan sqrt "
                    "copy_abs copy_negate adjusted to_eng_string"),
    dt.date: _DATE_ATTRS,
    dt.datetime: _DATE_ATTRS | _TIME_ATTRS | _words("date time timestamp astimezone utcoffset tzname"),
    dt.time: _TIME_ATTRS,
    dt.timedelta: _words("days seconds microseconds total_seconds"),
    BaseException: _words("args"),
}
# Subclasses seen in task data (OrderedDict from DMN outputs) and exceptions use their base's list.
_ATTR_BASES = (dict, list, BaseException)
# Expressions (conditions, DMN cells...) must not change the task data they read.
_MUTATORS = _words("append extend insert pop remove sort reverse clear update setdefault popitem add discard "
                   "intersection_update difference_update")
_SEQUENCES = (str, bytes, list, tuple)
# Names the rewritten code calls for the operators that can make huge values.
GROWTH_GUARDS = {"_add_": "+", "_sub_": "-", "_mul_": "*", "_pow_": "**", "_lshift_": "<<", "_mod_": "%"}
_SCALARS = frozenset({str, int, bool, float, type(None), Decimal})
_DICT_VIEWS = frozenset({type({}.keys()), type({}.values()), type({}.items())})
_FORMATTER = string.Formatter()
_CONVERTERS: dict[str, Callable[[Any], str]] = {"s": str, "r": repr, "a": ascii}


_statm = [-1, -1]  # pid and descriptor of an open /proc/self/statm; reopened after a fork
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def _rss() -> int | None:
    """Return this process's resident memory in bytes (about 1 µs), or None where /proc is missing."""
    if _statm[0] != os.getpid():
        try:
            _statm[:] = [os.getpid(), os.open("/proc/self/statm", os.O_RDONLY)]
        except OSError:
            return None
    try:
        return int(os.pread(_statm[1], 64, 0).split()[1]) * _PAGE
    except (OSError, IndexError, ValueError):
        return None


class RunState:
    """Budgets and guards of one run; compiled sandbox code calls its methods."""

    def __init__(self, limits: Limits, builtins: Mapping[str, Any]) -> None:
        self.limits = limits
        self.emax = int(limits.max_int_bits * math.log10(2))
        self.decimal_context = decimal.Context(prec=28, Emax=self.emax, Emin=-self.emax)
        self.busy = self.read_only = False
        self.reset(read_only=False)
        self.builtins: dict[str, Any] = {
            **builtins, "str": TypeStandIn(str, self.to_str), "int": TypeStandIn(int, self.to_int),
            "range": TypeStandIn(range, self.make_range), "round": self.round, "sum": self.sum,
            **{kind.__name__: TypeStandIn(kind, functools.partial(self.collect, kind)) for kind in _HASHED},
            "_getattr_": self.getattr, "_getitem_": self.getitem, "_getiter_": self.getiter, "_write_": self.write,
            "_inplacevar_": self.inplacevar, "_apply_": self.apply, "_tick_": self.tick, "_star_": self.getiter,
            "_starstar_": self.star, "_fmt_": self.fmt, "_join_": self.join,
            "_unpack_sequence_": guarded_unpack_sequence, "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
            **{name: self.binop(symbol) for name, symbol in GROWTH_GUARDS.items()}}

    def reset(self, *, read_only: bool) -> None:
        """Start a new run with fresh budgets."""
        self.read_only = read_only
        # The budget is the thread's CPU time: a script that waited for the processor on a busy server
        # has not run, and the worker's caller waits for it the same way (engine/isolation.py). The
        # clock starts at the first check (64 events in): reading it costs ~2 us, more than a whole
        # simple condition, and the events before it are a few microseconds' work.
        self.deadline: float | None = None
        self.steps = self.ops = 0
        self.rss0: int | None = None
        self.failure: SandboxViolation | None = None

    # Budgets. Checks are amortised over 64 events so simple conditions stay cheap.

    def fail(self, cls: type[SandboxViolation], message: str) -> NoReturn:
        """Raise a violation and remember it, so catching it cannot make the run succeed."""
        self.failure = violation(cls, message)
        raise self.failure

    def poll(self) -> None:
        """Count one guarded operation."""
        self.ops += 1
        if not self.ops & 63:
            self.check()

    def tick(self) -> None:
        """Count one loop iteration or function call."""
        self.steps += 1
        if not self.steps & 63:
            self.check()

    def check(self) -> None:
        """Enforce the iteration, time and memory budgets."""
        if self.failure is not None:
            raise self.failure
        if self.steps > self.limits.max_iterations:
            self.fail(SandboxResourceLimit, f"more than {self.limits.max_iterations:,} loop iterations or calls")
        if self.deadline is None:
            self.deadline = time.thread_time() + self.limits.timeout_s
        elif time.thread_time() > self.deadline:
            self.fail(SandboxTimeout, f"script ran longer than {self.limits.timeout_s} s")
        rss = _rss()
        if rss is None:
            return
        if self.rss0 is None:
            self.rss0 = rss
        elif rss - self.rss0 > self.limits.max_memory_mb << 20:
            self.fail(SandboxResourceLimit, f"script used more than {self.limits.max_memory_mb} MB of memory")

    def check_len(self, size: int) -> None:
        """Refuse a result of more than max_sequence items or characters."""
        if size > self.limits.max_sequence:
            self.fail(SandboxResourceLimit,
                      f"result would have {size:,} items or characters (limit {self.limits.max_sequence:,})")

    def check_bits(self, bits: float) -> None:
        """Refuse an integer of more than max_int_bits bits."""
        if bits > self.limits.max_int_bits:
            self.fail(SandboxResourceLimit, f"integer would have more than {self.limits.max_int_bits:,} bits")

    def check_decimal(self, number: Decimal) -> None:
        """Refuse turning a Decimal into an integer of more than max_int_bits bits."""
        if number.is_finite() and number.adjusted() > self.emax:
            self.fail(SandboxResourceLimit, f"Decimal exponent {number.adjusted()} is out of range")

    # Guards named by the rewritten code (_getattr_, _getiter_, ...).

    def getattr(self, obj: Any, name: str) -> Any:
        """Read an allow-listed attribute; wrap the methods that could allocate without bound."""
        self.poll()
        kind = type(obj)
        if kind not in _ATTRS:
            kind = next((base for base in _ATTR_BASES if isinstance(obj, base)), kind)
        if name not in _ATTRS.get(kind, ()):
            what = "a type" if isinstance(obj, type | TypeStandIn) else f"a {type(obj).__name__} value"
            self.fail(SandboxViolation, f"attribute '{name}' of {what} is not available in scripts")
        if self.read_only and name in _MUTATORS:
            self.fail(SandboxViolation, f"an expression cannot change data (.{name})")
        guard = _METHOD_GUARDS.get((kind, name))
        if guard is not None:
            return functools.partial(guard, self, obj, name)
        return getattr(obj, name)

    def getitem(self, obj: Any, key: Any) -> Any:
        """Read obj[key], refusing subscripted types (generic aliases)."""
        self.poll()
        if isinstance(obj, type | TypeStandIn):
            self.fail(SandboxViolation, "subscripting a type is not allowed")
        return obj[key]

    def getiter(self, obj: Any) -> Iterator[Any]:
        """Iterate obj, counting every item against the budgets."""
        return self._counted(iter(obj))

    def _counted(self, items: Iterator[Any]) -> Iterator[Any]:
        for item in items:
            self.steps += 1
            if not self.steps & 63:
                self.check()
            yield item

    def write(self, obj: Any) -> Any:
        """Allow item assignment on lists and dicts only (and never in expressions)."""
        if self.read_only or not isinstance(obj, dict | list):
            self.fail(SandboxViolation, f"cannot change items of a {type(obj).__name__} here")
        return obj

    def star(self, obj: Any) -> Any:
        """Count a ** unpacking, so long runs of them still meet the budgets."""
        self.poll()
        return obj

    def apply(self, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Call func with unpacked arguments (RestrictedPython's _apply_)."""
        return func(*args, **kwargs)

    def inplacevar(self, op: str, left: Any, right: Any) -> Any:
        """Apply an augmented assignment operator with the same checks as the plain operator."""
        check = _BINARY_CHECKS.get(op[:-1])
        if check is not None:
            check(self, left, right)
        return _INPLACE[op](left, right)

    def binop(self, symbol: str) -> Callable[[Any, Any], Any]:
        """Return the guard that checks and applies one growth operator."""
        check, apply = _BINARY_CHECKS[symbol], _BINARY[symbol]

        def guarded(left: Any, right: Any) -> Any:
            check(self, left, right)
            return apply(left, right)

        return guarded

    def fmt(self, value: Any, conversion: str, spec: str) -> str:
        """Format one f-string field after checking the size of the result."""
        self.check_len(self.text_size(value) + self.spec_size(spec))
        if conversion:
            value = _CONVERTERS[conversion](value)
        return format(value, spec)

    def join(self, parts: tuple[str, ...]) -> str:
        """Join the parts of an f-string after checking the total size."""
        self.check_len(sum(map(len, parts)))
        return "".join(parts)

    # Sizes.

    def text_size(self, obj: Any) -> int:
        """Estimate len(str(obj)) without building it; nested containers are walked, not rendered."""
        if type(obj) is str:
            return len(obj)
        total, stack, limit = 0, [obj], self.limits.max_sequence
        while stack:
            item = stack.pop()
            kind = type(item)
            if kind is str or kind is bytes:
                total += len(item) + 3
            elif kind is int or kind is bool:
                total += item.bit_length() // 3 + 2
            elif kind is Decimal:
                _sign, digits, exponent = item.as_tuple()
                total += len(digits) + (abs(exponent) if isinstance(exponent, int) else 0) + 4
            elif isinstance(item, list | tuple | set | frozenset | dict) or kind in _DICT_VIEWS:
                total += 2 + 4 * len(item)
                if total <= limit:
                    stack.extend(item.items() if isinstance(item, dict) else item)
            elif isinstance(item, BaseException):
                stack.extend(item.args)
            else:
                total += 64
            if total > limit:
                self.check_len(total)
        return total

    def items(self, obj: Any) -> int:
        """Count the items of a sequence with those of the containers nested in it (shared ones each time).

        `[[0] * 100_000] * 100_000` has 100,000 items but stands for 10^10: comparing, sorting or
        rendering it walks them all. Walks at most max_sequence containers' worth of items.
        """
        if type(obj) is str or type(obj) is bytes:
            return len(obj)
        total, stack, limit = 0, [obj], self.limits.max_sequence
        while stack:
            item = stack.pop()
            total += len(item)
            if total > limit:
                break
            stack.extend(child for child in (item.values() if isinstance(item, dict) else item)
                         if isinstance(child, list | tuple | set | frozenset | dict) and child)
        return total

    def spec_size(self, spec: str) -> int:
        """Return the width plus precision a format spec asks for, refusing absurd ones."""
        match = _SPEC.fullmatch(spec)
        if match is None:
            return 8 * len(spec)  # strftime-style specs of dates; anything else fails in format()
        return sum(self._count(digits) for digits in match.groups() if digits)

    def _count(self, digits: str) -> int:
        if digits == "*" or len(digits) > 9:
            self.fail(SandboxResourceLimit, f"format width or precision '{digits[:12]}' is not allowed")
        return int(digits)

    # Builtins with guarded construction.

    def to_str(self, *args: Any, **kwargs: Any) -> str:
        """str(), refusing to render huge nested containers."""
        if len(args) == 1 and not kwargs and type(args[0]) not in _SCALARS:
            self.check_len(self.text_size(args[0]))
        return str(*args, **kwargs)

    def to_int(self, *args: Any, **kwargs: Any) -> int:
        """int(), refusing Decimals whose integer value would be huge."""
        if args and isinstance(args[0], Decimal):
            self.check_decimal(args[0])
        return int(*args, **kwargs)

    def collect(self, kind: type, *args: Any, **kwargs: Any) -> Any:
        """Build a set, frozenset or dict from a counted iterator, so crafted hash collisions meet the deadline."""
        return kind(*_counted_args(self, kind is dict, args), **kwargs)

    def make_range(self, *args: Any) -> range:
        """range(), refusing more than max_sequence items."""
        result = range(*args)
        try:
            size = len(result)
        except OverflowError:
            size = sys.maxsize
        self.check_len(size)
        return result

    def round(self, number: Any, ndigits: Any = None) -> Any:
        """round(), refusing digit counts that make Python build huge powers of ten."""
        if ndigits is None:
            if isinstance(number, Decimal):
                self.check_decimal(number)
            return round(number)
        if isinstance(ndigits, int) and abs(ndigits) > self.emax:
            self.fail(SandboxResourceLimit, f"round() to {ndigits} digits is not allowed")
        return round(number, ndigits)

    def sum(self, items: Iterable[Any], /, start: Any = 0) -> Any:
        """sum(), adding non-numbers (lists, tuples) through the guarded + operator."""
        if isinstance(start, int | float | Decimal):
            return sum(items, start)
        add, total = self.binop("+"), start
        for item in self.getiter(items):
            total = add(total, item)
        return total


_SPEC = re.compile(r"(?:.?[<>=^])?[-+ ]?z?#?0?(\d*)[_,]?(?:\.(\d+))?[a-zA-Z%]?", re.DOTALL)
_PERCENT = re.compile(r"%(?:\([^)]*\))?[#0\- +]*(\*|\d+)?(?:\.(\*|\d+))?[hlL]?.", re.DOTALL)
_FIELD = re.compile(r"\d*|[A-Za-z]\w*")


def _check_add(state: RunState, left: Any, right: Any) -> None:
    state.poll()
    if isinstance(left, int) and isinstance(right, int):
        state.check_bits(max(left.bit_length(), right.bit_length()) + 1)
    elif isinstance(left, _SEQUENCES) and isinstance(right, _SEQUENCES):
        state.check_len(len(left) + len(right))


def _check_mul(state: RunState, left: Any, right: Any) -> None:
    state.poll()
    if isinstance(left, int) and isinstance(right, int):
        state.check_bits(left.bit_length() + right.bit_length())
    elif isinstance(left, _SEQUENCES) and isinstance(right, int):
        state.check_len(state.items(left) * right)
    elif isinstance(right, _SEQUENCES) and isinstance(left, int):
        state.check_len(state.items(right) * left)


def _check_pow(state: RunState, left: Any, right: Any) -> None:
    state.poll()
    if isinstance(left, int) and isinstance(right, int) and right > 1 and abs(left) > 1:
        state.check_bits(right * math.log2(abs(left)) if right.bit_length() < 64 else math.inf)


def _check_lshift(state: RunState, left: Any, right: Any) -> None:
    state.poll()
    if isinstance(left, int) and isinstance(right, int) and left and right > 0:
        state.check_bits(left.bit_length() + right)


def _check_mod(state: RunState, left: Any, right: Any) -> None:
    state.poll()
    if isinstance(left, str | bytes):
        text = left if isinstance(left, str) else left.decode("latin-1")
        size = len(text) + state.text_size(right)
        for match in _PERCENT.finditer(text):
            size += sum(state._count(digits) for digits in match.groups() if digits)
        state.check_len(size)


_BINARY_CHECKS: dict[str, Callable[[RunState, Any, Any], None]] = {
    "+": _check_add, "-": _check_add, "*": _check_mul, "**": _check_pow, "<<": _check_lshift, "%": _check_mod}
_BINARY: dict[str, Callable[[Any, Any], Any]] = {
    "+": operator.add, "-": operator.sub, "*": operator.mul, "**": operator.pow, "<<": operator.lshift,
    "%": operator.mod}
_INPLACE: dict[str, Callable[[Any, Any], Any]] = {
    "+=": operator.iadd, "-=": operator.isub, "*=": operator.imul, "/=": operator.itruediv,
    "//=": operator.ifloordiv, "%=": operator.imod, "**=": operator.ipow, "<<=": operator.ilshift,
    ">>=": operator.irshift, "&=": operator.iand, "|=": operator.ior, "^=": operator.ixor,
    "@=": operator.imatmul}


def _format_size(state: RunState, fmt: str, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> int:
    """Size str.format's result, refusing fields that look up attributes or items."""
    total, auto = len(fmt), 0
    for _literal, field, spec, _conversion in _FORMATTER.parse(fmt):
        if field is None:
            continue
        if not _FIELD.fullmatch(field) or "{" in (spec or ""):
            state.fail(SandboxViolation, f"format field '{{{field}}}' is not allowed: "
                                         "use {}, {0} or {name} without attributes, indexes or nested fields")
        key: int | str = field if field and not field.isdigit() else int(field or auto)
        auto += not field
        try:
            value = args[key] if isinstance(key, int) else kwargs[key]
        except (IndexError, KeyError):
            continue  # format() itself reports the missing argument
        total += state.text_size(value) + state.spec_size(spec or "")
    return total


def _str_format(state: RunState, fmt: str, method: str, /, *args: Any, **kwargs: Any) -> str:
    state.check_len(_format_size(state, fmt, args, kwargs))
    return fmt.format(*args, **kwargs)


def _str_format_map(state: RunState, fmt: str, method: str, mapping: Mapping[str, Any]) -> str:
    state.check_len(_format_size(state, fmt, (), mapping))
    return fmt.format_map(mapping)


def _str_join(state: RunState, sep: str, method: str, items: Iterable[Any]) -> str:
    parts = items if isinstance(items, list | tuple) else list(state.getiter(items))
    state.check_len(sum(len(p) for p in parts if isinstance(p, str)) + len(sep) * max(len(parts) - 1, 0))
    return sep.join(parts)


def _str_replace(state: RunState, text: str, method: str, old: Any, new: Any, count: int = -1) -> str:
    if isinstance(old, str) and isinstance(new, str) and isinstance(count, int):
        hits = text.count(old) if old else len(text) + 1
        hits = hits if count < 0 else min(hits, count)
        state.check_len(len(text) + hits * (len(new) - len(old)))
    return text.replace(old, new, count)


def _str_pad(state: RunState, text: str, method: str, width: Any, /, *rest: Any) -> str:
    if isinstance(width, int):
        state.check_len(width)
    result: str = getattr(text, method)(width, *rest)
    return result


def _str_expandtabs(state: RunState, text: str, method: str, tabsize: Any = 8) -> str:
    if isinstance(tabsize, int):
        state.check_len(len(text) + text.count("\t") * max(tabsize, 0))
    return text.expandtabs(tabsize)


def _list_extend(state: RunState, target: list[Any], method: str, items: Iterable[Any]) -> None:
    more = items if isinstance(items, Sized) else list(state.getiter(items))
    state.check_len(len(target) + len(more))
    target.extend(more)


def _counted_args(state: RunState, pairs: bool, args: tuple[Any, ...]) -> tuple[Any, ...]:
    """Feed iterables to a hashing C method through counted iterators (pairs of a mapping for dicts)."""
    return tuple(state.getiter(a.items() if pairs and isinstance(a, Mapping) else a) for a in args)


def _hashing(state: RunState, target: Any, method: str, /, *others: Any, **kwargs: Any) -> Any:
    return getattr(target, method)(*_counted_args(state, isinstance(target, dict), others), **kwargs)


_HASHED = (set, frozenset, dict)
_HASHING = _words("update union intersection difference symmetric_difference issubset issuperset isdisjoint "
                  "intersection_update difference_update")
_METHOD_GUARDS: dict[tuple[type, str], Callable[..., Any]] = {
    **{(kind, name): _hashing for kind in _HASHED for name in _HASHING & _ATTRS[kind]},
    (str, "format"): _str_format, (str, "format_map"): _str_format_map, (str, "join"): _str_join,
    (str, "replace"): _str_replace, (str, "expandtabs"): _str_expandtabs, (list, "extend"): _list_extend,
    **{(str, pad): _str_pad for pad in _STR_PAD}}
