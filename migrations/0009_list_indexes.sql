-- The list filtered by status, newest first: the unit chain's walk of registry.access
-- visible_personas when a status is given (the handler's and each investigation's walks are
-- bounded by personas_handler and personas_investigation).
CREATE INDEX personas_status_page ON personas (status, created_at DESC, id DESC);
