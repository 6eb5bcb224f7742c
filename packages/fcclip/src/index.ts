// Intentionally empty until its issue lands; the package exists so the workspace graph and builds are real.
export {};
