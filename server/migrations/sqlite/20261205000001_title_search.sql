-- The desk's title search through a full-text index: FTS5 with the
-- trigram tokenizer finds any run of three or more characters in a title
-- (case folded), as the queue's "contains" search needs, without reading
-- every title. The index keeps its own copy of the words with the
-- request's id (a table's implicit rowid may change on VACUUM, so it is
-- not used as the key); triggers keep it in step with the requests.
CREATE VIRTUAL TABLE borrowing_search USING fts5(id UNINDEXED, title, tokenize = 'trigram');
INSERT INTO borrowing_search (id, title) SELECT id, title FROM borrowing_requests;
CREATE TRIGGER borrowing_search_insert AFTER INSERT ON borrowing_requests BEGIN
    INSERT INTO borrowing_search (id, title) VALUES (new.id, new.title);
END;
CREATE TRIGGER borrowing_search_update AFTER UPDATE OF title ON borrowing_requests
WHEN old.title IS NOT new.title BEGIN
    DELETE FROM borrowing_search WHERE id = old.id;
    INSERT INTO borrowing_search (id, title) VALUES (new.id, new.title);
END;
CREATE TRIGGER borrowing_search_delete AFTER DELETE ON borrowing_requests BEGIN
    DELETE FROM borrowing_search WHERE id = old.id;
END;

-- Lending requests are searched by title and by the requesting library.
CREATE VIRTUAL TABLE lending_search USING fts5(id UNINDEXED, title, requester, tokenize = 'trigram');
INSERT INTO lending_search (id, title, requester) SELECT id, title, requester FROM lending_requests;
CREATE TRIGGER lending_search_insert AFTER INSERT ON lending_requests BEGIN
    INSERT INTO lending_search (id, title, requester) VALUES (new.id, new.title, new.requester);
END;
CREATE TRIGGER lending_search_update AFTER UPDATE OF title, requester ON lending_requests
WHEN old.title IS NOT new.title OR old.requester IS NOT new.requester BEGIN
    DELETE FROM lending_search WHERE id = old.id;
    INSERT INTO lending_search (id, title, requester) VALUES (new.id, new.title, new.requester);
END;
CREATE TRIGGER lending_search_delete AFTER DELETE ON lending_requests BEGIN
    DELETE FROM lending_search WHERE id = old.id;
END;
