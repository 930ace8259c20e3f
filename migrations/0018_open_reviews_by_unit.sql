-- The open reviews a handler and a unit's chain see, oldest due first
-- (registry.access.visible_open_reviews): what needs action and where the calendar starts,
-- one range of one index per handler and per unit. Without them, finding a unit's (or a
-- handler's) oldest open review walks every open review in the department by due day and
-- filters, and a handler's range reads their years of held reviews.
CREATE INDEX conduct_reviews_unit_open ON conduct_reviews (unit_id, due_on) WHERE status = 'open';
CREATE INDEX conduct_reviews_handler_open ON conduct_reviews (handler_id, due_on) WHERE status = 'open';
