"""Commands for the multi-process tests, run as subprocesses against their database.

python -m sotong.core.tests.process_helper enqueue N LOG [SLEEP]
python -m sotong.core.tests.process_helper status
python -m sotong.core.tests.process_helper recover
"""

from __future__ import annotations

import json
import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sotong.settings")
    import django

    django.setup()
    from django.db import transaction
    from django.db.models import Count
    from django_tasks_db.models import DBTaskResult

    from sotong.core.tests.process_tasks import record_run

    command = sys.argv[1]
    if command == "enqueue":
        count, log_path = int(sys.argv[2]), sys.argv[3]
        sleep = float(sys.argv[4]) if len(sys.argv) > 4 else 0.0
        with transaction.atomic():
            for number in range(count):
                record_run.enqueue(f"t{number:05d}", log_path, sleep)
    elif command == "status":
        by_status = dict(DBTaskResult.objects.values_list("status").annotate(n=Count("id")))
        attempts = sorted(
            len(ids) for ids in DBTaskResult.objects.values_list("worker_ids", flat=True)
        )
        workers = {
            ids[-1] for ids in DBTaskResult.objects.values_list("worker_ids", flat=True) if ids
        }
        print(
            json.dumps(
                {
                    "status": by_status,
                    "max_attempts": attempts[-1] if attempts else 0,
                    "workers": len(workers),
                }
            )
        )
    elif command == "recover":
        from sotong.core.tasks import recover_orphans

        print(json.dumps(recover_orphans()))
    else:
        raise SystemExit(f"unknown command {command}")


if __name__ == "__main__":
    main()
