# Copyright 2024 Invoice Tools Ltd
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
"""Invoice summaries for the monthly billing report."""

from typing import NamedTuple


class Invoice(NamedTuple):
    customer_id: str
    issued_year: int
    amount_cents: int
    currency: str


def summarize_invoices(invoices, currency="EUR", top=25):
    """Total billed per customer and year, largest first, in whole currency units."""
    totals = {}
    for invoice in invoices:
        if invoice.currency != currency:
            continue
        key = (invoice.customer_id, invoice.issued_year)
        totals[key] = totals.get(key, 0) + invoice.amount_cents
    ranked = sorted(totals.items(), key=lambda kv: kv[1], reverse=True)
    return [{"customer": c, "year": y, "total": t / 100} for (c, y), t in ranked[:top]]


def overdue_reminders(invoices, paid_ids, today_year):
    """Invoices older than a year that were never paid, oldest first."""
    stale = [inv for inv in invoices if inv.issued_year < today_year - 1 and id(inv) not in paid_ids]
    stale.sort(key=lambda inv: (inv.issued_year, inv.customer_id))
    return [f"{inv.customer_id}: {inv.amount_cents / 100:.2f} {inv.currency} due since {inv.issued_year}"
            for inv in stale]
