//! Diesel table definitions, kept in step with `migrations/` (checked by the
//! test suite, which runs every query against the migrated schema).

diesel::table! {
    articles (id) {
        id -> Uuid,
        slug -> Text,
        title -> Text,
        author -> Text,
        published_on -> Date,
        status -> Text,
        summary -> Text,
        word_count -> Int4,
        reading_time_minutes -> Int4,
        version -> Int8,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        hero_asset_id -> Nullable<Uuid>,
        hero_alt -> Nullable<Text>,
        hero_decorative -> Bool,
        hero_asset -> Nullable<Jsonb>,
    }
}

diesel::table! {
    sections (id) {
        id -> Uuid,
        article_id -> Uuid,
        kind -> Text,
        position -> Int4,
        heading -> Text,
        intro -> Nullable<Text>,
        body -> Nullable<Text>,
        note -> Nullable<Text>,
        call_to_action -> Nullable<Text>,
        phase_headings -> Nullable<Jsonb>,
        version -> Int8,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    section_items (id) {
        id -> Uuid,
        section_id -> Uuid,
        kind -> Text,
        position -> Int4,
        phase -> Nullable<Text>,
        title -> Nullable<Text>,
        body -> Nullable<Text>,
        description -> Nullable<Text>,
        image_asset_id -> Nullable<Uuid>,
        image_alt -> Nullable<Text>,
        image_decorative -> Bool,
        image_asset -> Nullable<Jsonb>,
    }
}

diesel::joinable!(sections -> articles (article_id));

diesel::table! {
    api_tokens (id) {
        id -> Uuid,
        name -> Text,
        role -> Text,
        prefix -> Text,
        secret_hash -> Bytea,
        created_at -> Timestamptz,
        expires_at -> Nullable<Timestamptz>,
        last_used_at -> Nullable<Timestamptz>,
        revoked_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    revisions (id) {
        id -> Uuid,
        seq -> Int8,
        article_id -> Uuid,
        slug -> Text,
        actor -> Text,
        request_id -> Text,
        created_at -> Timestamptz,
        action -> Text,
        target -> Text,
        section_kind -> Nullable<Text>,
        item_id -> Nullable<Uuid>,
        article_version -> Int8,
        snapshot -> Nullable<Jsonb>,
        locale -> Nullable<Text>,
        translations -> Nullable<Jsonb>,
    }
}
// `changes.xid` (xid8) and `sync_horizon` have no diesel type: the sync
// queries read them as text through `sql_query`, and inserts leave `xid` to
// its default, `pg_current_xact_id()`. `published` is NULL only in rows
// written before it existed.
diesel::table! {
    changes (seq) {
        seq -> Int8,
        article_id -> Uuid,
        slug -> Text,
        event -> Text,
        version -> Int8,
        revision_id -> Uuid,
        created_at -> Timestamptz,
        published -> Nullable<Bool>,
    }
}

diesel::table! {
    webhook_endpoints (id) {
        id -> Uuid,
        url -> Text,
        events -> Array<Text>,
        description -> Text,
        secret -> Text,
        enabled -> Bool,
        disabled_reason -> Nullable<Text>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        previous_secret -> Nullable<Text>,
        previous_secret_until -> Nullable<Timestamptz>,
        slugs -> Nullable<Array<Text>>,
        section_kinds -> Nullable<Array<Text>>,
        status -> Nullable<Text>,
    }
}

diesel::table! {
    webhook_deliveries (id) {
        seq -> Int8,
        id -> Uuid,
        endpoint_id -> Uuid,
        event -> Text,
        payload -> Jsonb,
        article_id -> Nullable<Uuid>,
        state -> Text,
        attempts -> Int4,
        next_attempt_at -> Timestamptz,
        last_status -> Nullable<Int4>,
        last_error -> Nullable<Text>,
        leased_until -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        waiting -> Bool,
    }
}

diesel::table! {
    releases (id) {
        id -> Uuid,
        title -> Text,
        publish_at -> Nullable<Timestamptz>,
        state -> Text,
        conflicts -> Jsonb,
        version -> Int8,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        published_at -> Nullable<Timestamptz>,
        publish_attempts -> Int4,
        retry_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    release_items (id) {
        id -> Uuid,
        release_id -> Uuid,
        slug -> Text,
        kind -> Nullable<Text>,
        body -> Jsonb,
        base_version -> Nullable<Int8>,
        staged_at -> Timestamptz,
        locale -> Nullable<Text>,
    }
}

diesel::table! {
    locales (code) {
        code -> Text,
        name -> Text,
        fallback -> Nullable<Text>,
        is_default -> Bool,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    translations (article_id, locale, key) {
        article_id -> Uuid,
        locale -> Text,
        key -> Text,
        text -> Text,
        source_hash -> Text,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    article_locales (article_id, locale) {
        article_id -> Uuid,
        locale -> Text,
        status -> Text,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    assets (id) {
        id -> Uuid,
        filename -> Text,
        content_type -> Text,
        bytes -> Int8,
        width -> Int4,
        height -> Int4,
        sha256 -> Text,
        storage_key -> Text,
        placeholder -> Text,
        alt -> Jsonb,
        caption -> Nullable<Jsonb>,
        focal_x -> Float8,
        focal_y -> Float8,
        version -> Int8,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::joinable!(release_items -> releases (release_id));
diesel::joinable!(translations -> articles (article_id));
diesel::joinable!(article_locales -> articles (article_id));
diesel::table! {
    webhook_attempts (id) {
        id -> Int8,
        delivery_id -> Uuid,
        attempted_at -> Timestamptz,
        duration_ms -> Int4,
        status -> Nullable<Int4>,
        error -> Nullable<Text>,
        response -> Nullable<Text>,
    }
}

diesel::joinable!(webhook_deliveries -> webhook_endpoints (endpoint_id));
diesel::joinable!(webhook_attempts -> webhook_deliveries (delivery_id));

diesel::allow_tables_to_appear_in_same_query!(
    articles,
    sections,
    section_items,
    api_tokens,
    revisions,
    changes,
    webhook_endpoints,
    webhook_deliveries,
    webhook_attempts,
    releases,
    release_items,
    locales,
    translations,
    article_locales,
    assets
);
