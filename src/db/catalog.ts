/**
 * db/schema.sql, written from the catalog with SQL alone (embedded Postgres ships no pg_dump): the schema,
 * composite types, tables with their columns, defaults and constraints, Row Level Security and policies,
 * indexes, functions (signature, attributes and a body fingerprint), triggers and comments, each kind sorted by
 * name.
 */
import type { Sql } from "./client.ts";

const HEADER = [
  "-- The starcite schema as the catalog holds it after every migration in db/migrations has run.",
  "-- Written by `npm run db:schema` (and `npm run db:build`); a test fails when it drifts. Do not edit.",
  "-- Functions appear by signature and a fingerprint of their body; each body is in db/functions/<name>.sql.",
].join("\n");

interface Def {
  def: string;
}

async function defs(sql: Sql, query: Promise<Def[]>): Promise<string[]> {
  return (await query).map((r) => r.def);
}

/** The current definition of every object in `schema`, as one deterministic SQL text. */
export async function dumpSchema(sql: Sql, schema = "starcite"): Promise<string> {
  const sections: [string, string[]][] = [];

  sections.push([
    "Schema",
    await defs(
      sql,
      sql<Def[]>`
    select format('create schema %I;', n.nspname)
           || coalesce(format(E'\ncomment on schema %I is ', n.nspname) || quote_literal(obj_description(n.oid, 'pg_namespace')) || ';', '') as def
    from pg_namespace n where n.nspname = ${schema}`,
    ),
  ]);

  sections.push([
    "Types",
    await defs(
      sql,
      sql<Def[]>`
    select format(E'create type %I.%I as (\n%s\n);', n.nspname, t.typname,
                  string_agg(format('  %I %s', a.attname, format_type(a.atttypid, a.atttypmod)), E',\n' order by a.attnum))
           || coalesce(format(E'\ncomment on type %I.%I is ', n.nspname, t.typname) || quote_literal(obj_description(t.oid, 'pg_type')) || ';', '') as def
    from pg_type t
    join pg_namespace n on n.oid = t.typnamespace
    join pg_class c on c.oid = t.typrelid and c.relkind = 'c'
    join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
    where n.nspname = ${schema}
    group by n.nspname, t.typname, t.oid
    order by t.typname`,
    ),
  ]);

  sections.push([
    "Tables",
    await defs(
      sql,
      sql<Def[]>`
    select format(E'create table %I.%I (\n%s\n);', n.nspname, c.relname,
                  concat_ws(E',\n',
                    (select string_agg(format('  %I %s%s%s', a.attname, format_type(a.atttypid, a.atttypmod),
                                              case when a.attnotnull then ' not null' else '' end,
                                              coalesce(' default ' || pg_get_expr(d.adbin, d.adrelid), '')),
                                       E',\n' order by a.attnum)
                     from pg_attribute a
                     left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
                     where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped),
                    (select string_agg(format('  constraint %I %s', k.conname, pg_get_constraintdef(k.oid)),
                                       E',\n' order by k.contype desc, k.conname)
                     from pg_constraint k where k.conrelid = c.oid)))
           || case when c.relrowsecurity then format(E'\nalter table %I.%I enable row level security;', n.nspname, c.relname) else '' end
           || case when c.relforcerowsecurity then format(E'\nalter table %I.%I force row level security;', n.nspname, c.relname) else '' end
           || coalesce(format(E'\ncomment on table %I.%I is ', n.nspname, c.relname) || quote_literal(obj_description(c.oid, 'pg_class')) || ';', '')
           || coalesce((select string_agg(format(E'\ncomment on column %I.%I.%I is %L;', n.nspname, c.relname, a.attname,
                                                 col_description(c.oid, a.attnum)), '' order by a.attnum)
                        from pg_attribute a
                        where a.attrelid = c.oid and a.attnum > 0 and col_description(c.oid, a.attnum) is not null), '') as def
    from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = ${schema} and c.relkind in ('r', 'p')
    order by c.relname`,
    ),
  ]);

  sections.push([
    "Row Level Security policies",
    await defs(
      sql,
      sql<Def[]>`
    select format(E'create policy %I on %I.%I\n  as %s for %s to %s', p.policyname, p.schemaname, p.tablename,
                  lower(p.permissive), lower(p.cmd), array_to_string(p.roles, ', '))
           || coalesce(E'\n  using (' || p.qual || ')', '')
           || coalesce(E'\n  with check (' || p.with_check || ')', '') || ';' as def
    from pg_policies p
    where p.schemaname = ${schema}
    order by p.tablename, p.policyname`,
    ),
  ]);

  sections.push([
    "Indexes",
    await defs(
      sql,
      sql<Def[]>`
    select pg_get_indexdef(i.indexrelid) || ';' as def
    from pg_index i
    join pg_class t on t.oid = i.indrelid
    join pg_class x on x.oid = i.indexrelid
    join pg_namespace n on n.oid = t.relnamespace
    where n.nspname = ${schema} and not exists (select 1 from pg_constraint k where k.conindid = i.indexrelid)
    order by t.relname, x.relname`,
    ),
  ]);

  // Functions by signature and a fingerprint of the body, not the body: each body is readable once, in
  // db/functions/<name>.sql, and a changed body still changes this file.
  sections.push([
    "Functions",
    await defs(
      sql,
      sql<Def[]>`
    select format(E'-- %I.%I(%s)\n--   returns %s; language %s, %s%s%s; body md5 %s',
                  n.nspname, p.proname, pg_get_function_arguments(p.oid), pg_get_function_result(p.oid), l.lanname,
                  case p.provolatile when 'i' then 'immutable' when 's' then 'stable' else 'volatile' end,
                  case when p.proparallel = 's' then ', parallel safe' else '' end,
                  case when p.prosecdef then ', security definer' else '' end,
                  md5(p.prosrc))
           || coalesce(format(E'\ncomment on function %I.%I(%s) is ', n.nspname, p.proname, pg_get_function_identity_arguments(p.oid))
                    || quote_literal(obj_description(p.oid, 'pg_proc')) || ';', '') as def
    from pg_proc p
    join pg_namespace n on n.oid = p.pronamespace
    join pg_language l on l.oid = p.prolang
    where n.nspname = ${schema}
    order by p.proname, pg_get_function_identity_arguments(p.oid)`,
    ),
  ]);

  sections.push([
    "Triggers",
    await defs(
      sql,
      sql<Def[]>`
    select pg_get_triggerdef(g.oid, true) || ';' as def
    from pg_trigger g
    join pg_class c on c.oid = g.tgrelid
    join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = ${schema} and not g.tgisinternal
    order by c.relname, g.tgname`,
    ),
  ]);

  const body = sections
    .filter(([, items]) => items.length > 0)
    .map(([title, items]) => `-- ${title}\n\n${items.join("\n\n")}\n`)
    .join("\n");
  return `${HEADER}\n\n${body}`;
}
