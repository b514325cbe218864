DROP TRIGGER assets_reach_uses ON assets;
DROP FUNCTION assets_reach_uses();
DROP TRIGGER section_items_image_asset ON section_items;
DROP TRIGGER articles_hero_asset ON articles;
DROP FUNCTION image_use_asset();
ALTER TABLE section_items DROP COLUMN image_asset, DROP COLUMN image_decorative, DROP COLUMN image_alt, DROP COLUMN image_asset_id;
ALTER TABLE articles DROP COLUMN hero_asset, DROP COLUMN hero_decorative, DROP COLUMN hero_alt, DROP COLUMN hero_asset_id;
DROP FUNCTION asset_facts(uuid);
