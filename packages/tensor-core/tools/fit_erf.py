"""Fits the erf approximation used by the WGSL GELU (WGSL has no erf).

Run with Debian's python: /usr/bin/python3 fit_erf.py. Prints the coefficients pasted into src/wgsl/erf.ts and the
max absolute error of a float32 evaluation against math.erf, so the numbers in the shader can be re-derived.
  |x| < 1      erf(x) = x * P(t),  t = x^2                  (odd polynomial)
  1 <= |x| < 4 erf(x) = 1 - exp(-x^2) * R(1/|x|)            (erfc(x) e^{x^2} is smooth in 1/x)
  |x| >= 4     erf(x) = sign(x)                               (1 - erf(4) = 1.5e-8 < half an ulp of 1.0f)
"""
import math
import numpy as np

def fit(xs, ys, basis, deg):
    A = np.stack([basis(xs) ** k for k in range(deg + 1)], axis=1)
    coef, *_ = np.linalg.lstsq(A, ys, rcond=None)
    return coef

def horner32(c, t):
    acc = np.float32(c[-1])
    for k in range(len(c) - 2, -1, -1):
        acc = np.float32(acc * np.float32(t) + np.float32(c[k]))
    return acc

xs1 = np.cos(np.linspace(0, math.pi, 4000)) * 0.5 + 0.5  # Chebyshev-like nodes on [0, 1]
y1 = np.array([math.erf(x) / x if x > 0 else 2 / math.sqrt(math.pi) for x in xs1])
P = fit(xs1, y1, lambda x: x * x, 8)

xs2 = 1 + 3 * (np.cos(np.linspace(0, math.pi, 4000)) * 0.5 + 0.5)
y2 = np.array([math.erfc(x) * math.exp(x * x) for x in xs2])
R = fit(xs2, y2, lambda x: 1 / x, 12)

def erf32(x):
    x = np.float32(x)
    a = abs(x)
    if a < 1:
        return np.float32(x * horner32(P, np.float32(x * x)))
    if a < 4:
        e = np.float32(np.exp(np.float32(-np.float32(a * a))))
        r = horner32(R, np.float32(np.float32(1) / a))
        return np.float32(math.copysign(np.float32(1) - np.float32(e * r), x))
    return np.float32(math.copysign(1.0, x))

test = np.linspace(-6, 6, 200001)
err = max(abs(float(erf32(x)) - math.erf(float(np.float32(x)))) for x in test)
print("P =", ", ".join(f"{c:.10e}" for c in P))
print("R =", ", ".join(f"{c:.10e}" for c in R))
print("max abs error (float32 evaluation):", err)
