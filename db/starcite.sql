-- The schema every starcite object lives in.
create schema starcite;

comment on schema starcite is 'starcite: durable, ordered session streams. See README.md for the SQL API.';
