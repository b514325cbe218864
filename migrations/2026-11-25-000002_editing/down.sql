DROP TABLE revisions;
DROP TABLE api_tokens;
