"""CreatorHub benchmarks: one command, figures and ratios against the raw SQL floor.

    make bench                      # on the DATABASE_URL of the environment (PostgreSQL for real figures)
    .venv/bin/python -m bench.run --repeat 500

Each benchmark times the full Django request path (auth, tenancy, serializer, rendering) in process
through Django's test client, takes the median, and prints it beside the same rows fetched by raw SQL
through Django's cursor. Later issues add their benchmarks to BENCHMARKS.
"""

import argparse
import os
import statistics
import sys
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class Result:
    """One figure and its floor. Times (ms, s) are better lower; rates (per s) better higher. `slowdown`
    is how many times worse than the floor the application is."""

    name: str
    app: float
    floor: float
    unit: str

    @property
    def slowdown(self) -> float:
        return self.floor / self.app if self.unit.endswith("/s") else self.app / self.floor


def setup_django():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "creatorhub.settings")
    os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")
    import django

    django.setup()


def median_ms(fn, repeat: int) -> float:
    for _ in range(min(20, repeat)):
        fn()  # warm caches, connections and the query plan
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def bench_api_key_page(repeat: int) -> list[tuple[str, float, float]]:
    """A site endpoint behind an API key: key lookup, site and scope resolution, one keyset page."""
    from django.db import connection
    from django.test import Client

    from creatorhub import services
    from creatorhub.models import ApiKey, Plan, Site, User
    from creatorhub.roles import Role
    from creatorhub.tenancy import platform_wide, site_scope

    with platform_wide("bench: the bench site"):
        site, _ = Site.objects.get_or_create(
            slug="bench-site", defaults={"name": "Bench", "plan": Plan.objects.order_by("price").first()}
        )
        user, _ = User.objects.get_or_create(email="bench-owner@example.com")
        ApiKey.objects.filter(site=site).delete()
    with site_scope(site):
        for i in range(60):
            services.create_api_key(site, name=f"bench {i}", role=Role.OWNER, acting_user=user)
        _, secret = services.create_api_key(site, name="bench caller", role=Role.OWNER, acting_user=user)
    client = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    url = f"/api/v1/sites/{site.slug}/api-keys/"
    assert client.get(url).status_code == 200

    def raw():  # the key is found across sites, as the application finds it, then its site's page is read
        with platform_wide("bench: the key's prefix", routine=True), connection.cursor() as cursor:
            cursor.execute(
                "SELECT id, site_id, role, key_hash, revoked_at FROM creatorhub_apikey WHERE prefix = %s",
                [secret.split("_")[1]],
            )
            cursor.fetchall()
            cursor.execute("SELECT id, plan_id FROM creatorhub_site WHERE slug = %s", [site.slug])
            cursor.fetchall()
        with site_scope(site), connection.cursor() as cursor:
            cursor.execute(
                "SELECT k.id, k.name, k.prefix, k.role, k.created_at, k.last_used_at, k.revoked_at, "
                "u.email FROM creatorhub_apikey k LEFT JOIN creatorhub_user u ON u.id = k.created_by_id "
                "WHERE k.site_id = %s ORDER BY k.created_at DESC, k.id DESC LIMIT 51",
                [site.pk],
            )
            cursor.fetchall()

    api = median_ms(lambda: client.get(url), repeat)
    floor = median_ms(raw, repeat)
    return [Result("API page of 50 API keys (Bearer key)", api, floor, "ms")]


def bench_offers(repeat: int) -> list[Result]:
    from bench.offers import run

    return run(Result)


def bench_activity(repeat: int) -> list[Result]:
    from bench.activity import run

    return run(Result)


def bench_contacts(repeat: int) -> list[Result]:
    from bench.contacts import run

    return run(Result, repeat)


def bench_imports(repeat: int) -> list[Result]:
    from bench.imports import run

    return run(Result)


BENCHMARKS = [bench_api_key_page, bench_offers, bench_activity, bench_contacts, bench_imports]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=300)
    parser.add_argument("--only", default="", help="run only the benchmarks whose name contains this")
    args = parser.parse_args(argv)
    setup_django()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    from bench.loadtest import collect_static

    call_command("migrate", verbosity=0)
    if not settings.DEBUG:
        collect_static()  # the pages name the manifest's files
    print(f"database: {connection.vendor}; times are medians of {args.repeat} runs")
    print(f"{'benchmark':<58} {'app':>10} {'floor':>10} {'unit':<9} {'x floor':>7}")
    for bench in BENCHMARKS:
        if args.only and args.only not in bench.__name__:
            continue
        for result in bench(args.repeat):
            print(
                f"{result.name:<58} {result.app:>10.2f} {result.floor:>10.2f} {result.unit:<9} "
                f"{result.slowdown:>6.1f}x",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
