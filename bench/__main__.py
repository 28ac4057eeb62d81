import importlib
import json
import logging
import os
import pkgutil
import sys

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
django.setup()
logging.getLogger("celery").setLevel(logging.WARNING)  # keep the report readable

import bench  # noqa: E402

selected = set(sys.argv[1:])
for module_info in pkgutil.iter_modules(bench.__path__):
    if module_info.name.startswith("_") or (selected and module_info.name not in selected):
        continue
    module = importlib.import_module(f"bench.{module_info.name}")
    if hasattr(module, "run"):
        print(f"== {module_info.name}", flush=True)
        print(json.dumps(module.run(), indent=2, default=str), flush=True)
