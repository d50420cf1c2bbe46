/**
 * Statements for the classifier benchmark (bench/sql-classify.ts); the corpus test checks
 * that they classify as the benchmark assumes.
 */

/** Short statements an application repeats: primary-key reads, a write, session chatter. */
export const SHORT_STATEMENTS: readonly string[] = [
  'SELECT * FROM users WHERE id = $1',
  'SELECT id, status FROM orders WHERE customer_id = $1 ORDER BY id DESC LIMIT 20',
  'UPDATE orders SET status = $1 WHERE id = $2',
  'SELECT count(*) FROM order_lines WHERE order_id = $1',
  'BEGIN',
  'COMMIT',
  "SET application_name = 'billing'",
  "SELECT nextval('orders_id_seq')",
];

/**
 * A 1.5 KB ORM query (Hibernate/Prisma shape: every column aliased, joins, IN lists,
 * sub-select, paging).
 */
export const ORM_STATEMENT = [
  'SELECT "o1_0"."id" AS "order_id", "o1_0"."customer_id", "o1_0"."status", "o1_0"."total_cents", "o1_0"."currency",',
  ' "o1_0"."shipping_address_id", "o1_0"."billing_address_id", "o1_0"."created_at", "o1_0"."updated_at", "o1_0"."version",',
  ' "c1_0"."id" AS "customer_id_1", "c1_0"."email" AS "customer_email", "c1_0"."name" AS "customer_name",',
  ' "c1_0"."region" AS "customer_region", "c1_0"."tier" AS "customer_tier", "c1_0"."created_at" AS "customer_created_at",',
  ' "l1_0"."id" AS "line_id", "l1_0"."sku" AS "line_sku", "l1_0"."quantity" AS "line_quantity",',
  ' "l1_0"."unit_cents" AS "line_unit_cents", "l1_0"."discount_cents" AS "line_discount_cents",',
  ' "p1_0"."id" AS "product_id", "p1_0"."title" AS "product_title", "p1_0"."category_id" AS "product_category_id"',
  ' FROM "public"."orders" AS "o1_0"',
  ' INNER JOIN "public"."customers" AS "c1_0" ON "c1_0"."id" = "o1_0"."customer_id"',
  ' LEFT OUTER JOIN "public"."order_lines" AS "l1_0" ON "l1_0"."order_id" = "o1_0"."id"',
  ' LEFT OUTER JOIN "public"."products" AS "p1_0" ON "p1_0"."id" = "l1_0"."product_id"',
  ' WHERE "o1_0"."status" = ANY($1) AND "o1_0"."created_at" >= $2 AND "o1_0"."created_at" < $3',
  ' AND "c1_0"."region" IN ($4, $5, $6, $7) AND "c1_0"."tier" <> $8',
  ' AND ("o1_0"."total_cents" > $9 OR lower("c1_0"."email") LIKE $10)',
  ' AND NOT EXISTS (SELECT 1 FROM "public"."refunds" AS "r1_0" WHERE "r1_0"."order_id" = "o1_0"."id" AND "r1_0"."state" <> $11)',
  ' AND "p1_0"."category_id" IN (SELECT "c2_0"."id" FROM "public"."categories" AS "c2_0" WHERE "c2_0"."visible" = true)',
  ' ORDER BY "o1_0"."created_at" DESC, "o1_0"."id" ASC, "l1_0"."id" ASC LIMIT $12 OFFSET $13',
].join('');
