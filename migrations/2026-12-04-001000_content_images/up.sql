-- Images in content (API.md §15): an article's hero image and an image on
-- the items of steps, benefits, expectations, aftercare tips and risks.
-- A use names its asset (a foreign key: an asset in use cannot be deleted),
-- may give alt text of its own (the default locale's; other locales' are
-- translations, keyed `hero_image.alt` and `<kind>.<item id>.image.alt`),
-- and may be decorative. `*_asset` is what a read shows of the asset
-- (file name, size, placeholder, alt by locale), kept by the triggers below
-- so that no write path can forget it and no read needs a join.

CREATE FUNCTION asset_facts(asset uuid) RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('filename', filename, 'width', width, 'height', height,
                              'placeholder', placeholder, 'alt', alt)
    FROM assets WHERE id = asset
$$;

ALTER TABLE articles
    ADD COLUMN hero_asset_id uuid REFERENCES assets (id),
    ADD COLUMN hero_alt text CHECK (char_length(btrim(hero_alt)) BETWEEN 1 AND 1000),
    ADD COLUMN hero_decorative boolean NOT NULL DEFAULT false,
    ADD COLUMN hero_asset jsonb,
    ADD CHECK (hero_asset_id IS NOT NULL OR (hero_alt IS NULL AND NOT hero_decorative));

ALTER TABLE section_items
    ADD COLUMN image_asset_id uuid REFERENCES assets (id),
    ADD COLUMN image_alt text CHECK (char_length(btrim(image_alt)) BETWEEN 1 AND 1000),
    ADD COLUMN image_decorative boolean NOT NULL DEFAULT false,
    ADD COLUMN image_asset jsonb,
    ADD CHECK (image_asset_id IS NOT NULL OR (image_alt IS NULL AND NOT image_decorative)),
    ADD CHECK (image_asset_id IS NULL OR kind IN ('steps', 'benefits', 'expectations', 'aftercare_tips', 'risks'));

-- Where an asset is used (`used_by`, and the refusal to delete it).
CREATE INDEX articles_hero_asset ON articles (hero_asset_id) WHERE hero_asset_id IS NOT NULL;
CREATE INDEX section_items_image_asset ON section_items (image_asset_id) WHERE image_asset_id IS NOT NULL;

-- A use's copy of what is shown of its asset, made as the use is written.
CREATE FUNCTION image_use_asset() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'articles' THEN
        NEW.hero_asset := asset_facts(NEW.hero_asset_id);
    ELSE
        NEW.image_asset := asset_facts(NEW.image_asset_id);
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER articles_hero_asset BEFORE INSERT OR UPDATE OF hero_asset_id ON articles
    FOR EACH ROW EXECUTE FUNCTION image_use_asset();
CREATE TRIGGER section_items_image_asset BEFORE INSERT OR UPDATE OF image_asset_id ON section_items
    FOR EACH ROW EXECUTE FUNCTION image_use_asset();

-- An asset's change reaches every use of it (lamina records the change of
-- each article that uses it in the same transaction).
CREATE FUNCTION assets_reach_uses() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE articles SET hero_asset = asset_facts(NEW.id) WHERE hero_asset_id = NEW.id;
    UPDATE section_items SET image_asset = asset_facts(NEW.id) WHERE image_asset_id = NEW.id;
    RETURN NULL;
END $$;
CREATE TRIGGER assets_reach_uses AFTER UPDATE ON assets
    FOR EACH ROW EXECUTE FUNCTION assets_reach_uses();
