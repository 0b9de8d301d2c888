"""The commands of the ``bargein`` command line, one module a family (wired up in
:mod:`bargein.cli`): :mod:`~bargein.commands.scenarios` (run, demo),
:mod:`~bargein.commands.live` (console, serve), :mod:`~bargein.commands.bench` (bench,
soak); :mod:`~bargein.commands.common` holds the app, the consoles and the checks they
share."""


