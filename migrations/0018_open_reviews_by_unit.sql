-- The open reviews a unit's chain sees, oldest due first (registry.access.visible_open_reviews):
-- what needs action and where the calendar starts, one range of one index per unit. Without
-- it, finding a unit's (or a handler's) oldest open review walks every open review in the
-- department by due day and filters.
CREATE INDEX conduct_reviews_unit_open ON conduct_reviews (unit_id, due_on) WHERE status = 'open';
