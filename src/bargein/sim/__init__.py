"""Simulation: a virtual-time event loop and helpers to run code on it.

``run_simulation(main())`` runs ``main`` like ``asyncio.run`` but on virtual time: whenever
every task waits on a timer, the clock jumps to the next one. ``Room`` connects a user and
an agent on one audio timeline in that loop (or a live one). See ``docs/simulation.md``.
"""

from bargein.sim.clock import DEFAULT_DEADLOCK_GRACE, VirtualTimeLoop
from bargein.sim.live import PreciseEventLoop, run_live
from bargein.sim.room import (
    AUDIBLE_MERGE_GAP,
    AUDIBLE_RMS,
    AUDIBLE_WINDOW,
    HearCallback,
    Room,
    RoomUser,
    Utterance,
    punctuated_words,
)
from bargein.sim.run import is_simulated, new_virtual_loop, run_simulation, simulation_loop_factory

__all__ = [
    "AUDIBLE_MERGE_GAP",
    "AUDIBLE_RMS",
    "AUDIBLE_WINDOW",
    "DEFAULT_DEADLOCK_GRACE",
    "HearCallback",
    "PreciseEventLoop",
    "Room",
    "RoomUser",
    "Utterance",
    "VirtualTimeLoop",
    "is_simulated",
    "new_virtual_loop",
    "punctuated_words",
    "run_live",
    "run_simulation",
    "simulation_loop_factory",
]
