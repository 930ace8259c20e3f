-- 003 IV.C.3: internal affairs may ask, for one officer, for every persona and account they
-- requested, handled, received by handover or approved. A role of its own.
ALTER TABLE users DROP CONSTRAINT users_roles_check;
ALTER TABLE users ADD CONSTRAINT users_roles_check CHECK (roles <@ ARRAY[
    'detective', 'supervisor', 'authorizing_official', 'commander', 'equipment_officer', 'legal', 'auditor',
    'administrator', 'internal_affairs']::text[]);
