"""Class mode under a full class: how long the store takes to take 30 students' judgements
sent at once, and how much server time the teacher's view needs to refresh with them.

    python benchmarks/class_mode.py                        # an SQLite file, 30 × 50
    python benchmarks/class_mode.py --url postgresql+psycopg://user:pw@host/db
    python benchmarks/class_mode.py --students 30 --judgements 50 --json

Students send their judgements from 30 threads at once (each judgement once, some twice, as a
double click does). Then the teacher's view runs through Streamlit's AppTest, as the server
runs it: its first refresh with the class's judgements (the reward model and both DPO runs are
trained), a refresh with nothing new (the cache answers), and a refresh after one more
judgement (everything is trained again on the new set). Times are wall-clock medians of
--repeats runs on this machine.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from conftest import open_page  # noqa: E402

from classroom.store import Store  # noqa: E402
from lessons import class_judgements as cj  # noqa: E402
from lessons import toy_lm as lm  # noqa: E402

PAGE = "app_pages/class_mode.py"


def fill(store: Store, code: str, students: int, per_student: int) -> dict:
    """``students`` threads each sending ``per_student`` judgements of the room's pool, every
    third one twice. Returns the time and what was stored."""
    task = lm.make_task()
    pool = cj.reply_pool(task, 40, seed=int.from_bytes(code.encode(), "big") % 2**32)
    ids = [store.join(code, f"S{s}") for s in range(students)]

    def student(s: int) -> float:
        order = cj.student_order(len(pool), s + 1, seed=len(code))
        worst = 0.0
        for k in range(per_student):
            prompt, a, b = pool[order[k % len(pool)]]
            better = a if task.true_rewards[prompt, a] >= task.true_rewards[prompt, b] else b
            for _ in range(2 if k % 3 == 0 else 1):
                start = time.perf_counter()
                store.add_judgement(code, ids[s], cj.reply_item(prompt, a, b), str(better),
                                    f"{ids[s]}-{k}")
                worst = max(worst, time.perf_counter() - start)
        return worst

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=students) as pool_of_threads:
        slowest = max(pool_of_threads.map(student, range(students)))
    return {"seconds": round(time.perf_counter() - start, 2),
            "slowest_judgement_ms": round(1000 * slowest, 1),
            "stored": len(store.judgements(code))}


def teacher_refresh(store: Store, code: str, key: str, repeats: int) -> dict:
    """Server time of the teacher's view: first refresh, unchanged, after a new judgement."""
    times = {"first_s": [], "unchanged_s": [], "one_more_s": []}
    for r in range(repeats):
        at = open_page(PAGE, {"room": code, "teacher": key}, timeout=120)
        from streamlit import cache_data

        cache_data.clear()
        start = time.perf_counter()
        at.run()
        times["first_s"].append(time.perf_counter() - start)
        start = time.perf_counter()
        at.run()
        times["unchanged_s"].append(time.perf_counter() - start)
        late = store.join(code, f"late {r}")
        store.add_judgement(code, late, cj.reply_item(0, 0, 1), "0", f"late-{r}")
        start = time.perf_counter()
        at.run()
        times["one_more_s"].append(time.perf_counter() - start)
        assert not at.exception, [e.value for e in at.exception]
    return {name: round(statistics.median(values), 3) for name, values in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="an SQLAlchemy URL (default: a new SQLite file)")
    parser.add_argument("--students", type=int, default=30)
    parser.add_argument("--judgements", type=int, default=50, help="per student")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="class-bench-")
    url = args.url or f"sqlite:///{folder}/classroom.sqlite"
    os.environ["DICE2DPO_DATABASE_URL"] = url
    store = Store(url)
    room = store.create_room("Benchmark class")
    report = {"url": url.split("@")[-1], "students": args.students,
              "judgements_per_student": args.judgements,
              "fill": fill(store, room.code, args.students, args.judgements),
              "teacher_refresh": teacher_refresh(store, room.code, room.teacher_key,
                                                 args.repeats)}
    store.delete_room(room.code, room.teacher_key)
    if args.json:
        print(json.dumps(report, indent=2))
        return
    fill_report, refresh = report["fill"], report["teacher_refresh"]
    print(f"{args.students} students × {args.judgements} judgements on {report['url']}: "
          f"{fill_report['stored']} stored in {fill_report['seconds']} s "
          f"(slowest single judgement {fill_report['slowest_judgement_ms']} ms)")
    print(f"teacher's refresh (server time): first {refresh['first_s']} s, unchanged "
          f"{refresh['unchanged_s']} s, after one more judgement {refresh['one_more_s']} s")


if __name__ == "__main__":
    main()
