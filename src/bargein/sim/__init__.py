"""Simulation: a virtual-time event loop and helpers to run code on it.

``run_simulation(main())`` runs ``main`` like ``asyncio.run`` but on virtual time: whenever
every task waits on a timer, the clock jumps to the next one. See ``docs/simulation.md``.
"""

from bargein.sim.clock import DEFAULT_DEADLOCK_GRACE, VirtualTimeLoop
from bargein.sim.run import is_simulated, new_virtual_loop, run_simulation, simulation_loop_factory

__all__ = [
    "DEFAULT_DEADLOCK_GRACE",
    "VirtualTimeLoop",
    "is_simulated",
    "new_virtual_loop",
    "run_simulation",
    "simulation_loop_factory",
]
