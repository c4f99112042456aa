-- +goose Up
-- Substring search shared by the modules (nicknames, group names): a GIN
-- index over search.grams(column) serves search.keyword_grams(keyword).
CREATE SCHEMA search;

-- grams lists the distinct single characters and character pairs of s.
-- Unlike pg_trgm's trigrams, these serve one- and two-character queries,
-- which is what CJK searches are, and do not depend on the server's locale.
-- +goose StatementBegin
CREATE FUNCTION search.grams(s text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$
  SELECT coalesce(array_agg(DISTINCT g), '{}')
  FROM (
    SELECT substr(s, i, 1) AS g FROM generate_series(1, char_length(s)) AS i
    UNION ALL
    SELECT substr(s, i, 2) FROM generate_series(1, char_length(s) - 1) AS i
  ) AS grams
$$;
-- +goose StatementEnd

-- keyword_grams is what grams(s) must contain for s to possibly contain k:
-- k itself when it is one character, else its character pairs. The caller
-- still checks strpos(s, k) > 0; the index only narrows.
-- +goose StatementBegin
CREATE FUNCTION search.keyword_grams(k text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$
  SELECT CASE WHEN char_length(k) = 1 THEN ARRAY[k]
         ELSE ARRAY(SELECT DISTINCT substr(k, i, 2) FROM generate_series(1, char_length(k) - 1) AS i)
         END
$$;
-- +goose StatementEnd

-- +goose Down
DROP SCHEMA search CASCADE;
