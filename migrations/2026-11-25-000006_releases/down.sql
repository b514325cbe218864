DROP TABLE release_items;
DROP TABLE releases;
