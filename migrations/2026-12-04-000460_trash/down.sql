DROP INDEX revisions_deletes_by_age;
DROP INDEX revisions_deletes_by_slug;
DROP INDEX revisions_deletes;
