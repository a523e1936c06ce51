# Copyright 2024 VendorCo
#
# Licensed under the Apache License, Version 2.0 (the "License");
# you may not use this file except in compliance with the License.
# You may obtain a copy of the License at
#
#     http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS,
# WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
# See the License for the specific language governing permissions and
# limitations under the License.
"""Run a pipeline of build jobs in dependency order, several at a time."""

import concurrent.futures
import logging
import time

from third_party.graphlib import TopologicalSorter

log = logging.getLogger("webapp.jobs")


class JobFailed(RuntimeError):
    def __init__(self, name, cause):
        super().__init__(f"job {name!r} failed: {cause}")
        self.name = name
        self.cause = cause


def run_pipeline(jobs, requires, max_workers=4):
    """Run `jobs` (name -> callable) once each, after the jobs they require have finished."""
    sorter = TopologicalSorter({name: requires.get(name, ()) for name in jobs})
    sorter.prepare()
    timings = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=max_workers) as pool:
        running = {}
        while sorter.is_active():
            for name in sorter.get_ready():
                log.info("starting %s", name)
                running[pool.submit(_timed, jobs[name])] = name
            done, _ = concurrent.futures.wait(running, return_when=concurrent.futures.FIRST_COMPLETED)
            for future in done:
                name = running.pop(future)
                try:
                    timings[name] = future.result()
                except Exception as err:
                    for other in running:
                        other.cancel()
                    raise JobFailed(name, err) from err
                sorter.done(name)
    return timings


def _timed(job):
    started = time.monotonic()
    job()
    return time.monotonic() - started
