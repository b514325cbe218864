-- Articles stored as typed sections. Every rule the API enforces on stored
-- content is also a constraint here, so no writer can store what a reader
-- could not be served.

CREATE TABLE articles (
    id                   uuid PRIMARY KEY,
    slug                 text NOT NULL UNIQUE
                         CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$' AND char_length(slug) <= 100),
    title                text NOT NULL CHECK (char_length(btrim(title)) BETWEEN 1 AND 200),
    author               text NOT NULL CHECK (char_length(btrim(author)) BETWEEN 1 AND 200),
    published_on         date NOT NULL,
    status               text NOT NULL CHECK (status IN ('draft', 'published')),
    summary              text NOT NULL CHECK (char_length(btrim(summary)) BETWEEN 1 AND 5000),
    word_count           integer NOT NULL CHECK (word_count >= 0),
    reading_time_minutes integer NOT NULL CHECK (reading_time_minutes >= 1),
    version              bigint NOT NULL DEFAULT 1 CHECK (version >= 1),
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX articles_listing ON articles (published_on DESC, id DESC);

CREATE TABLE sections (
    id             uuid PRIMARY KEY,
    article_id     uuid NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    kind           text NOT NULL CHECK (kind IN ('overview', 'steps', 'benefits', 'expectations',
                                                 'aftercare_tips', 'target_audiences', 'risks',
                                                 'conclusion')),
    position       integer NOT NULL CHECK (position >= 1),
    heading        text NOT NULL CHECK (char_length(btrim(heading)) BETWEEN 1 AND 200),
    intro          text CHECK (char_length(btrim(intro)) BETWEEN 1 AND 5000),
    body           text CHECK (char_length(btrim(body)) BETWEEN 1 AND 5000),
    note           text CHECK (char_length(btrim(note)) BETWEEN 1 AND 5000),
    call_to_action text CHECK (char_length(btrim(call_to_action)) BETWEEN 1 AND 5000),
    -- Sub-headings of the expectations section, keyed by phase.
    phase_headings jsonb CHECK (jsonb_typeof(phase_headings) = 'object'),
    version        bigint NOT NULL DEFAULT 1 CHECK (version >= 1),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (article_id, kind),
    UNIQUE (id, kind),
    CONSTRAINT sections_position_unique UNIQUE (article_id, position) DEFERRABLE INITIALLY DEFERRED,
    -- Which optional fields each kind has.
    CHECK ((kind IN ('overview', 'conclusion')) = (body IS NOT NULL)),
    CHECK (kind NOT IN ('overview', 'conclusion') OR intro IS NULL),
    CHECK (kind = 'target_audiences' OR note IS NULL),
    CHECK (kind = 'conclusion' OR call_to_action IS NULL),
    CHECK (kind = 'expectations' OR phase_headings IS NULL)
);

CREATE TABLE section_items (
    id          uuid PRIMARY KEY,
    section_id  uuid NOT NULL,
    kind        text NOT NULL,
    position    integer NOT NULL CHECK (position BETWEEN 1 AND 50),
    phase       text CHECK (phase IN ('before', 'during', 'after')),
    title       text CHECK (char_length(btrim(title)) BETWEEN 1 AND 200),
    body        text CHECK (char_length(btrim(body)) BETWEEN 1 AND 5000),
    description text CHECK (char_length(btrim(description)) BETWEEN 1 AND 5000),
    FOREIGN KEY (section_id, kind) REFERENCES sections (id, kind) ON DELETE CASCADE,
    CONSTRAINT section_items_position_unique UNIQUE (section_id, position) DEFERRABLE INITIALLY DEFERRED,
    -- The item shape of each kind; overview and conclusion have no items.
    CHECK (CASE kind
        WHEN 'target_audiences' THEN description IS NOT NULL AND title IS NULL AND body IS NULL AND phase IS NULL
        WHEN 'expectations' THEN phase IS NOT NULL AND title IS NOT NULL AND body IS NOT NULL AND description IS NULL
        WHEN 'steps' THEN phase IS NULL AND title IS NOT NULL AND body IS NOT NULL AND description IS NULL
        WHEN 'benefits' THEN phase IS NULL AND title IS NOT NULL AND body IS NOT NULL AND description IS NULL
        WHEN 'aftercare_tips' THEN phase IS NULL AND title IS NOT NULL AND body IS NOT NULL AND description IS NULL
        WHEN 'risks' THEN phase IS NULL AND title IS NOT NULL AND body IS NOT NULL AND description IS NULL
        ELSE false
    END)
);

CREATE INDEX section_items_by_section ON section_items (section_id, position);
