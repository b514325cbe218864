-- Deleted articles stay restorable (API.md §3): the trash lists the delete
-- revisions of articles that are gone, newest first; a slug finds the last
-- deleted article of that slug; the purge finds the expired ones.
CREATE INDEX revisions_deletes ON revisions (seq DESC) WHERE action = 'delete' AND target = 'article';
CREATE INDEX revisions_deletes_by_slug ON revisions (slug, seq DESC) WHERE action = 'delete' AND target = 'article';
CREATE INDEX revisions_deletes_by_age ON revisions (created_at) WHERE action = 'delete' AND target = 'article';
