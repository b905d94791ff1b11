"""The SQL of the demo data: realistic raw tables generated inside ClickHouse, deterministic for a seed.

Every random draw is a seeded hash of the row's indexes (customer n, order i, item j, ...), so the
orders query and the order-items query compute the same items without a join, and the same seed
and as_of give the same rows. Shapes: heavy-tailed order counts and amounts, a Christmas season,
skewed category shares with a favourite category per customer, broadcasts with replies and reply
delays, email opens, pricing-page visits, complaints opened and resolved, consents granted and
withdrawn, and a few dirty rows of every kind the staging layer must reject. demo.py runs it.
"""

from __future__ import annotations

import datetime as dt
import zlib
from dataclasses import dataclass

HISTORY_DAYS = 3 * 365
CHUNK_CUSTOMERS = 100_000

CATEGORIES = [  # (category, share of purchases): skewed like real catalogues
    ("fashion", 0.24), ("shoes", 0.16), ("beauty", 0.12), ("electronics", 0.10), ("home", 0.09),
    ("sports", 0.08), ("books", 0.06), ("toys", 0.05), ("grocery", 0.04), ("jewelry", 0.03),
    ("outdoors", 0.02), ("pets", 0.01),
]
PRODUCTS_PER_CATEGORY = 200
COUNTRIES = [("DE", 0.30), ("FR", 0.20), ("GB", 0.15), ("US", 0.12), ("KR", 0.10), ("ES", 0.08), ("IT", 0.05)]
CITIES = {
    "DE": ["Berlin", "Hamburg", "Munich", "Cologne"], "FR": ["Paris", "Lyon", "Marseille"],
    "GB": ["London", "Manchester", "Leeds"], "US": ["New York", "Chicago", "Austin"],
    "KR": ["Seoul", "Busan", "Incheon"], "ES": ["Madrid", "Barcelona"], "IT": ["Rome", "Milan"],
}
SOURCE_CHANNELS = [
    ("instagram_ad", 0.22), ("facebook_ad", 0.18), ("website_form", 0.20), ("offline_store", 0.12),
    ("event", 0.06), ("organic", 0.14), ("referral", 0.08),
]
MEMBER_TIERS = [("none", 0.55), ("silver", 0.25), ("gold", 0.15), ("platinum", 0.05)]
SEGMENTS = [("consumer", 0.85), ("student", 0.10), ("enterprise", 0.05)]
CONSENT_CHANNELS = ["email", "sms", "whatsapp", "push"]
EMAILS_PER_YEAR = 26
BROADCASTS_PER_YEAR = 36
MANUAL_TAG = "influencer"
TEST_PHONE = "+4930000000000"  # a placeholder a shop typed for customers without a phone


def intHash64_seed(seed: int, salt: str) -> int:
    """A 64-bit start value for one random stream, stable across runs and Python versions."""
    return (zlib.crc32(salt.encode()) << 32 | (seed & 0xFFFFFFFF)) & 0xFFFFFFFFFFFFFFFF


@dataclass(frozen=True)
class Step:
    table: str
    label: str
    sql: str


class DemoSql:
    """SQL expressions of the demo, all functions of a seed and the as_of date."""

    def __init__(self, seed: int, as_of: dt.date):
        self.seed = seed
        self.end = f"toDateTime('{as_of.isoformat()} 00:00:00') + toIntervalDay(1) - toIntervalSecond(1)"
        self.loaded_at = f"toDateTime64('{as_of.isoformat()} 23:59:59', 3)"
        self.load_id = f"demo-seed-{seed}"

    # -- random draws ---------------------------------------------------------------------------
    def u(self, salt: str, *keys: str) -> str:
        """Uniform in [0, 1), a pure function of the seed, a salt and the integer keys.

        Chained intHash64 over integers is several times cheaper than hashing strings, and this
        runs a dozen times per generated row.
        """
        hashed = str(intHash64_seed(self.seed, salt))
        for key in keys:
            hashed = f"intHash64(bitXor({hashed}, toUInt64({key})))"
        return f"({hashed} / 18446744073709551616.0)"

    def normal(self, salt: str, *keys: str) -> str:
        """Standard normal by Box-Muller."""
        return f"(sqrt(-2 * log(1 - {self.u(salt + '1', *keys)})) * cos(2 * pi() * {self.u(salt + '2', *keys)}))"

    def exponential(self, salt: str, mean: float, *keys: str) -> str:
        return f"(-log(1 - {self.u(salt, *keys)}) * {mean})"

    def pick(self, salt: str, choices: list[tuple[str, float]], *keys: str) -> str:
        """A weighted choice among string values."""
        x, total, branches = self.u(salt, *keys), 0.0, []
        for value, weight in choices[:-1]:
            total += weight
            branches.append(f"{x} < {total:.6f}, '{value}'")
        return f"multiIf({', '.join(branches)}, '{choices[-1][0]}')"

    def pick_index(self, salt: str, weights: list[float], *keys: str) -> str:
        """A weighted choice of an index 0..len-1."""
        x, total, branches = self.u(salt, *keys), 0.0, []
        for index, weight in enumerate(weights[:-1]):
            total += weight
            branches.append(f"{x} < {total:.6f}, {index}")
        return f"toUInt8(multiIf({', '.join(branches)}, {len(weights) - 1}))"

    def seconds_before_end(self, seconds: str) -> str:
        return f"({self.end} - toIntervalSecond(toUInt32({seconds})))"

    # -- shared per-customer base ---------------------------------------------------------------
    @staticmethod
    def customer_id(n: str) -> str:
        return f"concat('C', leftPad(toString({n} + 1), 8, '0'))"

    def customers_base(self, lo: int, count: int) -> str:
        """One row per customer index with what every generator derives from it."""
        tenure = f"dateDiff('second', signup_at, {self.end})"
        return f"""(
            SELECT
                n,
                {self.customer_id('n')} AS customer_id,
                {self.seconds_before_end(f"pow({self.u('signup', 'n')}, 1.4) * {HISTORY_DAYS * 86400}")} AS signup_at,
                {tenure} AS tenure_seconds,
                -- heavy-tailed order counts: 15% never buy, the rest lognormal, fewer for newcomers
                if({self.u('buyer', 'n')} < 0.15, 0,
                   least(300, toUInt32(floor(exp(3.2 + {self.normal('orders', 'n')}) * sqrt(tenure_seconds / {HISTORY_DAYS * 86400}))))) AS order_count,
                {self.pick_index('fav', [w for _, w in CATEGORIES], 'n')} AS favourite_category,
                -- engagement propensities
                if({self.u('opens_all', 'n')} < 0.05, 1.0, pow({self.u('open_rate', 'n')}, 2)) AS open_propensity,
                if({self.u('replier', 'n')} < 0.10, 0.5 + 0.5 * {self.u('reply_hi', 'n')}, 0.2 * pow({self.u('reply_rate', 'n')}, 2)) AS reply_propensity,
                if({self.u('fast', 'n')} < 0.3, 2.0, 40.0) AS reply_delay_hours
            FROM (SELECT number AS n FROM numbers({lo}, {count}))
        )"""

    def category_name(self, index: str) -> str:
        return f"[{', '.join(repr(c) for c, _ in CATEGORIES)}][{index} + 1]"

    # -- order items, shared by the orders and order_items queries --------------------------------
    def item_count(self) -> str:
        return f"toUInt32(1 + least(11, floor({self.exponential('items', 2.5, 'n', 'i')})))"

    def item_category(self, j: str) -> str:
        other = self.pick_index("cat", [w for _, w in CATEGORIES], "n", "i", j)
        return f"if({self.u('own', 'n', 'i', j)} < 0.6, favourite_category, {other})"

    def item_product_number(self, j: str) -> str:
        return f"toUInt32(pow({self.u('product', 'n', 'i', j)}, 2) * {PRODUCTS_PER_CATEGORY})"

    @staticmethod
    def product_id(category: str, number: str) -> str:
        return f"concat('P', leftPad(toString({category}), 2, '0'), '-', leftPad(toString({number}), 3, '0'))"

    def list_price(self, category: str, number: str) -> str:
        return f"round(5 + 495 * pow({self.u('price', category, number)}, 3), 2)"

    def item_quantity(self, j: str) -> str:
        return f"(1 + ({self.u('qty', 'n', 'i', j)} < 0.15) + ({self.u('qty2', 'n', 'i', j)} < 0.05))"

    def item_unit_price(self, j: str) -> str:
        category, number = self.item_category(j), self.item_product_number(j)
        return f"round({self.list_price(category, number)} * (1 - 0.3 * pow({self.u('discount', 'n', 'i', j)}, 3)), 2)"

    # -- statements ------------------------------------------------------------------------------
    def products(self) -> str:
        return f"""
        INSERT INTO raw.products (product_id, category, brand, list_price, _load_id, _loaded_at)
        SELECT
            {self.product_id('c', 'k')},
            {self.category_name('c')},
            concat('Brand ', toString(c), '-', toString(k % 20)),
            toDecimal64({self.list_price('c', 'k')}, 2),
            '{self.load_id}', {self.loaded_at}
        FROM (SELECT intDiv(number, {PRODUCTS_PER_CATEGORY}) AS c, number % {PRODUCTS_PER_CATEGORY} AS k
              FROM numbers({len(CATEGORIES) * PRODUCTS_PER_CATEGORY}))"""

    def customers(self, lo: int, count: int) -> str:
        country = self.pick("country", COUNTRIES, "n")
        city_branches = ", ".join(
            f"country = '{code}', [{', '.join(repr(c) for c in cities)}][1 + toUInt32({self.u('city', 'n')} * {len(cities)})]"
            for code, cities in CITIES.items()
        )
        return f"""
        INSERT INTO raw.customers (customer_id, signup_at, country, city, source_channel, member_tier,
                                   birth_year, segment, email, phone, loyalty_points, _load_id, _loaded_at)
        SELECT
            customer_id, signup_at, {country} AS country,
            multiIf({city_branches}, 'Unknown'),
            {self.pick('source', SOURCE_CHANNELS, 'n')},
            {self.pick('tier', MEMBER_TIERS, 'n')},
            if({self.u('birth_known', 'n')} < 0.1, NULL, toUInt16(1950 + floor({self.u('birth', 'n')} * 58))),
            {self.pick('segment', SEGMENTS, 'n')},
            if({self.u('email_known', 'n')} < 0.05, NULL, concat(lower(customer_id), '@example.com')),
            if({self.u('phone_known', 'n')} < 0.2, NULL, concat('+4915', leftPad(toString(n), 9, '0'))),
            -- a fifth of the customers never joined the loyalty programme
            if({self.u('points_known', 'n')} < 0.2, NULL, toUInt32(floor(pow({self.u('points', 'n')}, 2) * 20000))),
            '{self.load_id}', {self.loaded_at}
        FROM {self.customers_base(lo, count)}"""

    def orders(self, lo: int, count: int) -> str:
        u = self.u
        age = f"dateDiff('second', ordered_at, {self.end})"
        status = f"""multiIf(
            age > 30 * 86400, multiIf(s < 0.08, 'cancelled', s < 0.13, 'refunded', s < 0.15, 'delivered', 'completed'),
            age > 10 * 86400, multiIf(s < 0.08, 'cancelled', s < 0.10, 'refunded', s < 0.55, 'delivered', 'completed'),
            age > 3 * 86400, multiIf(s < 0.05, 'cancelled', s < 0.50, 'shipped', s < 0.85, 'delivered', 'completed'),
            age > 86400, multiIf(s < 0.05, 'pending_payment', s < 0.40, 'paid', s < 0.90, 'shipped', 'delivered'),
            multiIf(s < 0.35, 'pending_payment', s < 0.80, 'paid', 'shipped'))"""
        cap = f"least({self.end}, {{}})"
        amount = f"arraySum(arrayMap(j -> {self.item_quantity('j')} * {self.item_unit_price('j')}, range({self.item_count()})))"
        plain_time = f"signup_at + toIntervalSecond(toUInt32(pow({u('when', 'n', 'i')}, 0.8) * tenure_seconds))"
        # 15% of orders fall in the Christmas season of their year (when that is inside the customer's life).
        season_time = f"toDateTime(makeDate(toYear(t), 11, 15)) + toIntervalSecond(toUInt32({u('season_at', 'n', 'i')} * 46 * 86400))"
        return f"""
        INSERT INTO raw.orders (order_id, customer_id, ordered_at, status, amount, paid_at, shipped_at,
                                delivered_at, completed_at, channel, _load_id, _loaded_at)
        SELECT order_id, customer_id, ordered_at, status, amount,
               if(status IN ('paid', 'shipped', 'delivered', 'completed', 'refunded'), paid, NULL),
               if(status IN ('shipped', 'delivered', 'completed', 'refunded'), shipped, NULL),
               if(status IN ('delivered', 'completed'), delivered, NULL),
               if(status = 'completed', completed, NULL),
               channel, '{self.load_id}', {self.loaded_at}
        FROM (
            SELECT
                concat('O', leftPad(toString(n + 1), 8, '0'), '-', toString(i + 1)) AS order_id,
                customer_id,
                {plain_time} AS t,
                if({u('season', 'n', 'i')} < 0.15 AND {season_time} BETWEEN signup_at AND {self.end}, {season_time}, t) AS ordered_at,
                {age} AS age,
                {u('status', 'n', 'i')} AS s,
                {status} AS status,
                toDecimal64(round({amount}, 2), 2) AS amount,
                {cap.format(f"ordered_at + toIntervalSecond(toUInt32(300 + {u('pay', 'n', 'i')} * 7200))")} AS paid,
                {cap.format(f"paid + toIntervalSecond(toUInt32(43200 + {u('ship', 'n', 'i')} * 172800))")} AS shipped,
                {cap.format(f"shipped + toIntervalSecond(toUInt32(86400 + {u('deliver', 'n', 'i')} * 259200))")} AS delivered,
                {cap.format(f"delivered + toIntervalSecond(toUInt32(86400 + {u('complete', 'n', 'i')} * 518400))")} AS completed,
                {self.pick('order_channel', [('web', 0.5), ('app', 0.35), ('store', 0.15)], 'n', 'i')} AS channel
            FROM {self.customers_base(lo, count)}
            ARRAY JOIN range(order_count) AS i
        )"""

    def order_items(self, lo: int, count: int) -> str:
        return f"""
        INSERT INTO raw.order_items (order_id, product_id, quantity, unit_price, _load_id, _loaded_at)
        SELECT
            concat('O', leftPad(toString(n + 1), 8, '0'), '-', toString(i + 1)),
            {self.product_id(self.item_category('j'), self.item_product_number('j'))},
            toInt32({self.item_quantity('j')}),
            toDecimal64({self.item_unit_price('j')}, 2),
            '{self.load_id}', {self.loaded_at}
        FROM (
            SELECT n, i, favourite_category, {self.item_count()} AS item_count
            FROM {self.customers_base(lo, count)}
            ARRAY JOIN range(order_count) AS i
        )
        ARRAY JOIN range(item_count) AS j"""

    def browsing_events(self, lo: int, count: int) -> str:
        u = self.u
        kind = self.pick("browse_kind", [("page_view", 0.70), ("pricing_page_view", 0.10), ("add_to_cart", 0.12), ("enquiry", 0.08)], "n", "e")
        category = f"if({u('browse_own', 'n', 'e')} < 0.6, favourite_category, {self.pick_index('browse_cat', [w for _, w in CATEGORIES], 'n', 'e')})"
        return f"""
        INSERT INTO raw.events (customer_id, event_at, event_type, channel, campaign_id, product_category, message_id, _load_id, _loaded_at)
        SELECT customer_id, event_at, {kind} AS event_type,
               {self.pick('browse_channel', [('web', 0.6), ('app', 0.4)], 'n', 'e')},
               NULL,
               if(event_type = 'pricing_page_view', NULL, {self.category_name(category)}),
               NULL, '{self.load_id}', {self.loaded_at}
        FROM (
            SELECT n, customer_id, favourite_category, e,
                   {self.seconds_before_end(f"{u('browse_at', 'n', 'e')} * least(tenure_seconds, 365 * 86400)")} AS event_at
            FROM {self.customers_base(lo, count)}
            ARRAY JOIN range(toUInt32(least(400, floor(exp(2.5 + 0.9 * {self.normal('browse', 'n')}))))) AS e
        )"""

    def _campaign_rows(self, lo: int, count: int, per_year: int, salt: str, reach: float) -> str:
        """Customers reached by each campaign of the last year, with the campaign's send time."""
        interval = 365 * 86400 // per_year
        return f"""
            SELECT n, customer_id, open_propensity, reply_propensity, reply_delay_hours, c,
                   {self.seconds_before_end(f"86400 + c * {interval}")} + toIntervalSecond(toUInt32({self.u(salt + '_jitter', 'n', 'c')} * 3600)) AS sent_at
            FROM {self.customers_base(lo, count)}
            ARRAY JOIN range({per_year}) AS c
            WHERE {self.u(salt + '_list', 'n')} < 0.7 AND {self.u(salt + '_reach', 'n', 'c')} < {reach} AND sent_at > signup_at"""

    def _campaign_events(self, rows: str, prefix: str, channel: str, event_type: str, delay: str | None = None,
                         happened: str = "") -> str:
        """INSERT a campaign's sends (no delay), or the responses to them: `delay` seconds after the send, for the
        sends where `happened`, up to the end of as_of."""
        event_at, condition = "sent_at", ""
        if delay is not None:
            event_at = f"sent_at + toIntervalSecond(toUInt32({delay}))"
            condition = f"WHERE {happened} AND {event_at} <= {self.end}"
        return f"""
        INSERT INTO raw.events (customer_id, event_at, event_type, channel, campaign_id, product_category, message_id, _load_id, _loaded_at)
        SELECT customer_id, {event_at}, '{event_type}', {channel}, concat('{prefix}-', leftPad(toString(c), 3, '0')),
               NULL, concat('{prefix}-', toString(c), '-', customer_id), '{self.load_id}', {self.loaded_at}
        FROM ({rows}) {condition}"""

    def email_events(self, lo: int, count: int, opens: bool) -> str:
        rows = self._campaign_rows(lo, count, EMAILS_PER_YEAR, "email", 1.0)
        if not opens:
            return self._campaign_events(rows, "EM", "'email'", "email_sent")
        return self._campaign_events(rows, "EM", "'email'", "email_open", self.exponential('open_delay', 14400, 'n', 'c'),
                                     f"{self.u('opened', 'n', 'c')} < open_propensity")

    def broadcast_events(self, lo: int, count: int, replies: bool) -> str:
        rows = self._campaign_rows(lo, count, BROADCASTS_PER_YEAR, "broadcast", 0.5)
        channel = f"if({self.u('broadcast_channel', 'n')} < 0.6, 'whatsapp', 'sms')"
        if not replies:
            return self._campaign_events(rows, "BC", channel, "message_sent")
        return self._campaign_events(rows, "BC", channel, "message_reply",
                                     f"{self.exponential('reply_delay', 3600, 'n', 'c')} * reply_delay_hours",
                                     f"{self.u('replied', 'n', 'c')} < reply_propensity")

    def tickets(self, lo: int, count: int) -> str:
        u = self.u
        resolved_at = f"opened_at + toIntervalSecond(toUInt32(3600 + {self.exponential('resolve', 172800, 'n', 't')}))"
        return f"""
        INSERT INTO raw.tickets (ticket_id, customer_id, opened_at, resolved_at, kind, _load_id, _loaded_at)
        SELECT concat('T', leftPad(toString(n + 1), 8, '0'), '-', toString(t + 1)), customer_id, opened_at,
               if({u('stays_open', 'n', 't')} < 0.05 OR {resolved_at} > {self.end}, NULL, {resolved_at}),
               {self.pick('ticket_kind', [('complaint', 0.40), ('question', 0.45), ('urgent', 0.15)], 'n', 't')},
               '{self.load_id}', {self.loaded_at}
        FROM (
            SELECT n, customer_id, t,
                   {self.seconds_before_end(f"{u('opened', 'n', 't')} * least(tenure_seconds, 365 * 86400)")} AS opened_at
            FROM {self.customers_base(lo, count)}
            ARRAY JOIN range(if({u('has_tickets', 'n')} < 0.25, toUInt32(1 + floor({self.exponential('tickets', 0.7, 'n')})), 0)) AS t
        )"""

    def consents(self, lo: int, count: int) -> str:
        u = self.u
        # versions: the first decision, then a withdrawal (8%), then a new grant (2%)
        versions = f"1 + ({u('withdraws', 'n', 'ch')} < 0.08) + ({u('withdraws', 'n', 'ch')} < 0.02)"
        return f"""
        INSERT INTO raw.consents (customer_id, channel, granted, updated_at, _load_id, _loaded_at)
        SELECT customer_id, {CONSENT_CHANNELS!r}[ch + 1],
               if(v % 2 = 0, first_granted, NOT first_granted),
               least({self.end}, signup_at + toIntervalSecond(toUInt32((v + {u('consent_at', 'n', 'ch')}) * tenure_seconds / 3))),
               '{self.load_id}', {self.loaded_at}
        FROM (
            SELECT n, customer_id, signup_at, tenure_seconds, ch, {u('granted', 'n', 'ch')} < 0.85 AS first_granted
            FROM {self.customers_base(lo, count)}
            ARRAY JOIN range({len(CONSENT_CHANNELS)}) AS ch
            WHERE {u('has_consent', 'n', 'ch')} < 0.8
        )
        ARRAY JOIN range({versions}) AS v"""

    def manual_tags(self, lo: int, count: int) -> str:
        u = self.u
        return f"""
        INSERT INTO raw.manual_tag_assignments (customer_id, tag_key, action, assigned_by, assigned_at, _load_id, _loaded_at)
        SELECT customer_id, '{MANUAL_TAG}', if(v = 0, 'add', 'remove'), if(v = 0, 'maria', 'jonas'),
               {self.seconds_before_end(f"(2 - v) * 20 * 86400 * (1 + {u('manual_at', 'n')})")},
               '{self.load_id}', {self.loaded_at}
        FROM {self.customers_base(lo, count)}
        ARRAY JOIN range(1 + ({u('manual_removed', 'n')} < 0.2)) AS v
        WHERE {u('manual', 'n')} < 0.002"""

    def identity_edges(self, lo: int, count: int) -> str:
        """Each customer's account seen with its e-mail and phone (as in raw.customers, some typed in capitals
        or with spaces), a union id for 40%; 4% are a second account of an earlier customer, a chat account seen
        with that customer's phone (chains when the earlier one is a second account too), 1% share an e-mail
        with one, and 1% were given a shop's placeholder phone (TEST_PHONE), the trap stitching must hold back."""
        u = self.u
        email = "concat(lower(customer_id), '@example.com')"
        phone = "concat('+4915', leftPad(toString(n), 9, '0'))"

        def earlier(salt: str) -> str:
            return f"greatest(0, toInt64(n) - 1 - toInt64(floor({u(salt, 'n')} * 20)))"

        return f"""
        INSERT INTO raw.identity_edges (id, id_type, other_id, other_id_type, seen_at, _load_id, _loaded_at)
        SELECT customer_id, 'customer_id', edge.1, edge.2,
               signup_at + toIntervalSecond(toUInt32({u('seen', 'n', 'k')} * tenure_seconds)),
               '{self.load_id}', {self.loaded_at}
        FROM (
            SELECT n, customer_id, signup_at, tenure_seconds, arrayFilter(e -> e.1 != '', [
                (if({u('email_known', 'n')} < 0.05, '', if({u('email_case', 'n')} < 0.1, upper({email}), {email})), 'email'),
                (if({u('phone_known', 'n')} < 0.2, '',
                    if({u('phone_spaces', 'n')} < 0.1, concat('+49 15 ', leftPad(toString(n), 9, '0')), {phone})), 'phone'),
                (if({u('union_id', 'n')} < 0.4, concat('U', lower(hex(intHash64(bitXor({intHash64_seed(self.seed, 'union')}, n))))), ''), 'union_id'),
                (if(n > 0 AND {u('second_account', 'n')} < 0.04,
                    concat('+4915', leftPad(toString({earlier('second_account_of')}), 9, '0')), ''), 'phone'),
                (if(n > 0 AND {u('shared_email', 'n')} < 0.01,
                    concat(lower({self.customer_id(earlier('shared_email_of'))}), '@example.com'), ''), 'email'),
                (if({u('test_phone', 'n')} < 0.01, '{TEST_PHONE}', ''), 'phone')
            ]) AS edges
            FROM {self.customers_base(lo, count)}
        )
        ARRAY JOIN edges AS edge, arrayEnumerate(edges) AS k"""

    # -- dirty rows: a few of each kind staging must reject ----------------------------------------
    def dirty_rows(self, orders_total: int) -> list[Step]:
        few = max(3, orders_total // 20_000)
        new_version = f"'{self.load_id}', {self.loaded_at}"
        stale_version = f"'{self.load_id}', {self.loaded_at} - toIntervalDay(1)"

        def pick(salt: str, key: str) -> str:
            return f"ORDER BY cityHash64({self.seed}, '{salt}', {key}) LIMIT {few}"

        def orders_copy(label: str, changes: dict[str, str], version: str, where: str, salt: str) -> Step:
            columns = ["order_id", "customer_id", "ordered_at", "status", "amount", "paid_at", "shipped_at",
                       "delivered_at", "completed_at", "channel"]
            values = ", ".join(changes.get(c, c) for c in columns)
            return Step("orders", label,
                        f"INSERT INTO raw.orders ({', '.join(columns)}, _load_id, _loaded_at) "
                        f"SELECT {values}, {version} FROM raw.orders {where} {pick(salt, 'order_id')}")

        event_columns = "customer_id, event_at, event_type, channel, campaign_id, product_category, message_id, _load_id, _loaded_at"
        return [
            orders_copy("exact duplicate order rows", {}, new_version, "", "dup"),
            orders_copy("stale earlier versions of completed orders",
                        {"status": "'paid'", "shipped_at": "NULL", "delivered_at": "NULL", "completed_at": "NULL"},
                        stale_version, "WHERE status = 'completed'", "stale"),
            orders_copy("orders with a null amount", {"order_id": "concat(order_id, '-NULL')", "amount": "NULL"},
                        new_version, "", "null_amount"),
            orders_copy("orders with a negative amount", {"order_id": "concat(order_id, '-NEG')", "amount": "-amount"},
                        new_version, "WHERE amount > 0", "negative"),
            orders_copy("orders dated in the future",
                        {"order_id": "concat(order_id, '-FUT')", "ordered_at": f"{self.end} + toIntervalDay(30)"},
                        new_version, "", "future"),
            orders_copy("orders of unknown customers",
                        {"order_id": "concat(order_id, '-ORPHAN')", "customer_id": "concat(customer_id, '-UNKNOWN')"},
                        new_version, "", "orphan_order"),
            Step("order_items", "order items of orders that do not exist",
                 "INSERT INTO raw.order_items (order_id, product_id, quantity, unit_price, _load_id, _loaded_at) "
                 "SELECT concat(order_id, '-MISSING'), product_id, quantity, unit_price, _load_id, _loaded_at "
                 f"FROM raw.order_items {pick('orphan_item', 'order_id, product_id')}"),
            Step("events", "events dated in the future",
                 f"INSERT INTO raw.events ({event_columns}) "
                 f"SELECT customer_id, {self.end} + toIntervalDay(30), event_type, channel, campaign_id, product_category, "
                 f"message_id, _load_id, _loaded_at FROM raw.events {pick('future_event', 'customer_id, event_at, event_type')}"),
            Step("identity_edges", "identity edges of an unknown type and of unknown customers",
                 "INSERT INTO raw.identity_edges (id, id_type, other_id, other_id_type, seen_at, _load_id, _loaded_at) "
                 "SELECT id, if(cityHash64(id, other_id) % 2 = 0, 'fax', id_type), "
                 "if(cityHash64(id, other_id) % 2 = 0, other_id, concat(other_id, '-UNKNOWN')), "
                 "if(cityHash64(id, other_id) % 2 = 0, other_id_type, 'customer_id'), seen_at, _load_id, _loaded_at "
                 f"FROM raw.identity_edges {pick('dirty_edge', 'id, other_id')}"),
        ]
