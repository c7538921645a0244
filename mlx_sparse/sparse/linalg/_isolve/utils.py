"""What every iterative solver shares: turning (A, M, x0, b) into operators and
device vectors (SciPy's make_system), the atol/rtol rule, and the device-resident
iteration driver.

Device-resident iterations
--------------------------
A solver's vectors are 1-D mx.arrays of the working dtype; every vector operation is
an MLX op on the solver's device (``solver_device(dtype)``: MLX's default device,
except float64, which MLX computes only on the CPU). Residual norms and breakdown
tests stay lazy MLX scalars: ``iterate`` builds ``check_every`` iterations, then reads
one small array of per-iteration stop flags back to the host. When a flag is set, the
iterate of that very iteration is returned, so the iteration count, ``info`` and ``x``
are exactly what checking every iteration (as SciPy does) gives; the extra iterations
of the batch cost a few vector operations and are discarded. While one batch runs
(``mx.async_eval``) the next is already being built, so the host's Python work
overlaps the device's; a batch built past the stop is dropped. Callbacks are called
once per completed iteration, in order, with that iteration's x (when its batch is
read back).

``check_every`` defaults to 8 on a GPU and 1 on the CPU (where a host read costs
nothing); change it with ``set_check_every(n)`` (``None`` restores the defaults) or
the ``MLX_SPARSE_CHECK_EVERY`` environment variable; read it with
``get_check_every(device)``.
"""
import os

import mlx.core as mx
import numpy as np

from ...._dtypes import MX_TO_NP, device_for, to_mx_dtype
from .._interface import IdentityOperator, LinearOperator, aslinearoperator
from .._interface import _as_mx as _as_vector  # an mx.array for any vector, dtype kept

__all__ = ["make_system", "get_atol_rtol", "_get_atol_rtol", "set_check_every",
           "get_check_every", "solver_device", "iterate", "to_host_scalar"]

# SciPy's working-precision rule: float32/float64/complex64/complex128 combine by
# upcasting; any other type counts as float64.
_COERCE = {("f", "f"): "f", ("f", "d"): "d", ("f", "F"): "F", ("f", "D"): "D",
           ("d", "f"): "d", ("d", "d"): "d", ("d", "F"): "D", ("d", "D"): "D",
           ("F", "f"): "F", ("F", "d"): "D", ("F", "F"): "F", ("F", "D"): "D",
           ("D", "f"): "D", ("D", "d"): "D", ("D", "F"): "D", ("D", "D"): "D"}


def coerce(x, y):
    """The working dtype char of two dtype chars (SciPy's rule)."""
    x = x if x in "fdFD" else "d"
    y = y if y in "fdFD" else "d"
    return _COERCE[x, y]


def _char(dt):
    if isinstance(dt, mx.Dtype):
        return MX_TO_NP[dt].char if dt in MX_TO_NP else "d"
    return np.dtype(dt).char


def _working_mx_dtype(char):
    if char == "D":
        raise TypeError(
            "the working dtype of this system is complex128, which MLX does not have; "
            "use complex64 for A, b and x0 (e.g. b.astype(numpy.complex64))")
    return to_mx_dtype(np.dtype(char))


def solver_device(dtype):
    """The device a solve in dtype runs on (float64 on the CPU)."""
    return device_for(to_mx_dtype(dtype))


def _identity(x):
    return x


def make_system(A, M, x0, b):
    """Make the linear system A x = b (SciPy's make_system).

    Returns ``(A, M, x, b)``: A and M as LinearOperators (M the identity when None,
    or built from ``A.psolve``/``A.rpsolve`` when A has them), x the initial guess
    and b the right-hand side as 1-D mx.arrays of the working dtype (SciPy's rule:
    A's and b's dtypes upcast among float32/float64/complex64; other types count as
    float64). ``x0='Mb'`` starts from ``M @ b``.
    """
    A_ = A
    A = aslinearoperator(A)
    if A.shape[0] != A.shape[1]:
        raise ValueError(f"expected square matrix, but got shape={(A.shape,)}")
    N = A.shape[0]

    b = _as_vector(b)
    if not (b.shape == (N, 1) or b.shape == (N,)):
        raise ValueError(f"shapes of A {A.shape} and b {tuple(b.shape)} are "
                         "incompatible")
    bchar = _char(b.dtype)
    if bchar not in "fdFD":
        bchar = "d"
    if getattr(A, "dtype", None) is not None:
        xchar = _char(A.dtype)
    else:
        bdt = to_mx_dtype(np.dtype(bchar))
        with mx.stream(device_for(bdt)):
            xchar = _char(A.matvec(b.astype(bdt)).dtype)
    xchar = coerce(xchar, bchar)
    xdt = _working_mx_dtype(xchar)
    with mx.stream(device_for(xdt)):
        b = b.astype(xdt).reshape(-1)

    if M is None:
        psolve = getattr(A_, "psolve", _identity)
        rpsolve = getattr(A_, "rpsolve", _identity)
        if psolve is _identity and rpsolve is _identity:
            M = IdentityOperator(shape=A.shape, dtype=A.dtype)
        else:
            M = LinearOperator(A.shape, matvec=psolve, rmatvec=rpsolve, dtype=A.dtype)
    else:
        M = aslinearoperator(M)
        if A.shape != M.shape:
            raise ValueError("matrix and preconditioner have different shapes")

    with mx.stream(device_for(xdt)):
        if x0 is None:
            x = mx.zeros((N,), dtype=xdt)
        elif isinstance(x0, str):
            if x0 != "Mb":
                raise ValueError(f"x0 must be an array, None or 'Mb', got {x0!r}")
            x = _as_vector(M.matvec(b)).reshape(-1)
            if x.dtype != xdt:
                x = x.astype(xdt)
        else:
            x = _as_vector(x0)
            if not (x.shape == (N, 1) or x.shape == (N,)):
                raise ValueError(f"shapes of A {A.shape} and x0 {tuple(x.shape)} are "
                                 "incompatible")
            x = x.astype(xdt).reshape(-1)
    return A, M, x, b


def get_atol_rtol(name, b_norm, atol=0., rtol=1e-5):
    """The absolute tolerance a solver stops at: max(atol, rtol * ||b||) (SciPy's
    rule and error for an invalid atol). b_norm is a host number."""
    if atol == "legacy" or atol is None or atol < 0:
        raise ValueError(f"'scipy.sparse.linalg.{name}' called with invalid `atol`="
                         f"{atol}; if set, `atol` must be a real, non-negative number.")
    atol = max(float(atol), float(rtol) * float(b_norm))
    return atol, rtol


_get_atol_rtol = get_atol_rtol  # SciPy's private name


def to_host_scalar(a):
    """One MLX scalar read to the host as a Python number."""
    return a.item()


# ---- check interval -------------------------------------------------------------------
_check_every = None  # None: device defaults


def _env_check_every():
    v = os.environ.get("MLX_SPARSE_CHECK_EVERY")
    return int(v) if v else None


def set_check_every(n):
    """How many iterations run between host reads of the convergence test (>= 1);
    None restores the defaults (8 on a GPU, 1 on the CPU). Results (x, info,
    iteration count, callbacks) do not depend on it."""
    global _check_every
    if n is not None:
        n = int(n)
        if n < 1:
            raise ValueError(f"check_every must be >= 1, got {n}")
    _check_every = n


def get_check_every(device=None):
    """The check interval in force for solves on device (default device if None)."""
    if _check_every is not None:
        return _check_every
    env = _env_check_every()
    if env is not None:
        return max(1, env)
    dev = device if device is not None else mx.default_device()
    kind = dev if isinstance(dev, mx.DeviceType) else dev.type
    return 1 if kind == mx.DeviceType.cpu else 8


# ---- the driver -------------------------------------------------------------------------
CONTINUE = 0
CONVERGED = 1        # stop before this iteration's update: info 0, x = x_stop
CONVERGED_AFTER = 2  # stop after completing this iteration: info 0, x = new x


def iterate(step, state, maxiter, x_of, callback=None, device=None, outcomes=None):
    """Run ``step`` up to maxiter times, reading stop flags every check_every steps.

    ``step(state, iteration)`` returns ``(new_state, flag, x_stop)``: flag a lazy
    int32 MLX scalar (CONTINUE = 0 while the solver goes on), x_stop the x to return
    when the solver stops before completing the iteration (an array, or a dict
    {code: array}). ``x_of(state)`` gives the x of a state. ``new_state`` is anything
    mx.eval accepts (arrays, tuples/lists/dicts of them, Python numbers).

    ``outcomes`` maps a flag code to ``(info, completed)``: completed means the
    iteration ran to its end (its callback is called and x is the new x); info may
    be an exception instance, raised after the callbacks of earlier iterations.
    Defaults: CONVERGED -> (0, False), CONVERGED_AFTER -> (0, True), any other code
    c -> (c, False) (SciPy's negative breakdown codes).

    Returns ``(x, info, iterations)``; info is maxiter when no iteration stopped.
    """
    table = {CONVERGED: (0, False), CONVERGED_AFTER: (0, True)}
    if outcomes:
        table.update(outcomes)
    dev = device if device is not None else mx.default_device()
    k_max = get_check_every(dev)

    def launch(s, it, k):
        """Build k iterations from state s (lazily) and start evaluating them."""
        flags, stops, xs = [], [], []
        for j in range(k):
            s, flag, x_stop = step(s, it + j)
            flags.append(flag)
            stops.append(x_stop)
            xs.append(x_of(s))
        fl = mx.stack(flags) if k > 1 else flags[0].reshape(1)
        if _PIPELINE:
            mx.async_eval(fl, s)
        else:
            mx.eval(fl, s)
        return it, k, fl, stops, xs, s

    # One batch is read back while the next one is already built and running (the
    # host's graph building overlaps the device's work); a batch built past the
    # stopping iteration is simply dropped.
    pending = launch(state, 0, min(k_max, maxiter)) if maxiter > 0 else None
    last_state = state
    while pending is not None:
        it, k, fl, stops, xs, s_end = pending
        nxt_it = it + k
        nxt = launch(s_end, nxt_it, min(k_max, maxiter - nxt_it)) \
            if (nxt_it < maxiter and _PIPELINE) else None
        host = np.asarray(fl)
        hit = np.flatnonzero(host)
        if not hit.size:
            if callback is not None:
                for j in range(k):
                    callback(xs[j])
            last_state = s_end
            if nxt is None and nxt_it < maxiter:
                nxt = launch(s_end, nxt_it, min(k_max, maxiter - nxt_it))
            pending = nxt
            continue
        done = int(hit[0])
        code = int(host[done])
        info, completed = table.get(code, (code, False))
        if callback is not None:
            for j in range(done + (1 if completed else 0)):
                callback(xs[j])
        if isinstance(info, BaseException):
            raise info
        if completed:
            return xs[done], info, it + done + 1
        x = stops[done]
        if isinstance(x, dict):
            x = x[code] if code in x else x[None]
        return x, info, it + done
    return x_of(last_state), maxiter, maxiter


# Build the next batch of iterations while the current one runs (set False to
# evaluate each batch before building the next).
_PIPELINE = True


def flag_where(*cases):
    """A lazy int32 stop flag from ordered (condition, code) pairs: the code of the
    first true condition, CONTINUE if none (SciPy's checks, in SciPy's order)."""
    out = mx.array(CONTINUE, dtype=mx.int32)
    for cond, code in reversed(cases):
        out = mx.where(cond, mx.array(code, dtype=mx.int32), out)
    return out


def real_dtype(dt):
    """The real dtype of the same precision (complex64 -> float32)."""
    return mx.float32 if dt == mx.complex64 else dt


def eps(dt):
    """Machine epsilon of the working dtype (float32 for complex64)."""
    return float(np.finfo(MX_TO_NP[real_dtype(dt)]).eps)


def dot(a, b):
    """Lazy inner product: vdot (conjugating a) for complex, dot for real."""
    if a.dtype == mx.complex64:
        return mx.sum(mx.conj(a) * b)
    return mx.sum(a * b)


def sumsq(a):
    """Lazy a.a (real): the squared 2-norm of a vector."""
    if a.dtype == mx.complex64:
        return mx.sum(mx.real(a) ** 2 + mx.imag(a) ** 2)
    return mx.sum(a * a)


def norm(a):
    """Lazy 2-norm of a vector (real scalar)."""
    return mx.sqrt(sumsq(a))


