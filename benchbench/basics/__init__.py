"""Shared basics below every stage: statistics primitives, device and NVML access, units, and the error
family users meet. Imports nothing of benchbench but the plug-in loader, so every layer may import it."""
