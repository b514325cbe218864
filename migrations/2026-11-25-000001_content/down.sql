DROP TABLE section_items;
DROP TABLE sections;
DROP TABLE articles;
