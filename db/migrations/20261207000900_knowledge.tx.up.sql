-- Knowledge articles (issue 16). An article belongs to the provider unit
-- whose agents and managers write it, and to some of that unit's services.
-- Its text lives per locale in article_texts, the current version only;
-- article_revisions keeps every version as it was written, with its author.
-- version is the optimistic lock a revision must name.
CREATE TABLE articles (
    id               {{.ID}},
    provider_unit_id BIGINT NOT NULL REFERENCES units (id),
    status           TEXT NOT NULL CHECK (status IN ('draft', 'published', 'archived')),
    audience         TEXT NOT NULL CHECK (audience IN ('everyone', 'provider')),
    version          BIGINT NOT NULL,
    created_by       BIGINT NOT NULL REFERENCES users (id),
    created_at       {{.TS}} NOT NULL,
    updated_at       {{.TS}} NOT NULL,
    published_at     {{.TS}}
);
CREATE INDEX articles_provider_idx ON articles (provider_unit_id, id);

CREATE TABLE article_services (
    article_id BIGINT NOT NULL REFERENCES articles (id),
    service_id BIGINT NOT NULL REFERENCES services (id),
    PRIMARY KEY (article_id, service_id)
);
CREATE INDEX article_services_service_idx ON article_services (service_id, article_id);

CREATE TABLE article_texts (
    id         {{.ID}},
    article_id BIGINT NOT NULL REFERENCES articles (id),
    locale     TEXT NOT NULL,
    title      TEXT NOT NULL,
    body       TEXT NOT NULL,
    body_html  TEXT NOT NULL{{if .Postgres}},
    -- 'simple': no stemming, so one index serves English and Finnish alike.
    search     tsvector GENERATED ALWAYS AS (to_tsvector('simple', title || ' ' || body)) STORED{{end}}
);
CREATE UNIQUE INDEX article_texts_locale_key ON article_texts (article_id, locale);
{{if .Postgres}}
CREATE INDEX article_texts_search_idx ON article_texts USING GIN (search);
{{else}}
-- SQLite: an FTS5 index over article_texts, kept by triggers, with
-- prefix indexes for the order form's half-typed words; no word positions
-- (detail = column), since no search asks for a phrase.
CREATE VIRTUAL TABLE article_texts_fts USING fts5 (title, body, content = 'article_texts', content_rowid = 'id', tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3 4', detail = column);
--bun:split
CREATE TRIGGER article_texts_fts_insert AFTER INSERT ON article_texts BEGIN
    INSERT INTO article_texts_fts (rowid, title, body) VALUES (new.id, new.title, new.body);
END;
--bun:split
CREATE TRIGGER article_texts_fts_delete AFTER DELETE ON article_texts BEGIN
    INSERT INTO article_texts_fts (article_texts_fts, rowid, title, body) VALUES ('delete', old.id, old.title, old.body);
END;
--bun:split
CREATE TRIGGER article_texts_fts_update AFTER UPDATE ON article_texts BEGIN
    INSERT INTO article_texts_fts (article_texts_fts, rowid, title, body) VALUES ('delete', old.id, old.title, old.body);
    INSERT INTO article_texts_fts (rowid, title, body) VALUES (new.id, new.title, new.body);
END;
--bun:split
{{end}}
CREATE TABLE article_revisions (
    id         {{.ID}},
    article_id BIGINT NOT NULL REFERENCES articles (id),
    version    BIGINT NOT NULL,
    author_id  BIGINT NOT NULL REFERENCES users (id),
    at         {{.TS}} NOT NULL,
    note       TEXT NOT NULL,
    content    TEXT NOT NULL
);
CREATE UNIQUE INDEX article_revisions_version_key ON article_revisions (article_id, version);

-- One vote per reader and article; a reader may change their mind.
CREATE TABLE article_votes (
    article_id BIGINT NOT NULL REFERENCES articles (id),
    user_id    BIGINT NOT NULL REFERENCES users (id),
    helpful    BOOLEAN NOT NULL,
    at         {{.TS}} NOT NULL,
    PRIMARY KEY (article_id, user_id)
);

-- Every opening of an article, with where it was opened from; one opened
-- from the order form names the service being ordered, so the quality
-- report can tell a need the article answered (no order followed).
CREATE TABLE article_views (
    id         {{.ID}},
    article_id BIGINT NOT NULL REFERENCES articles (id),
    user_id    BIGINT NOT NULL REFERENCES users (id),
    service_id BIGINT REFERENCES services (id),
    source     TEXT NOT NULL,
    at         {{.TS}} NOT NULL
);
CREATE INDEX article_views_article_idx ON article_views (article_id, at);
CREATE INDEX article_views_service_idx ON article_views (service_id, at);
