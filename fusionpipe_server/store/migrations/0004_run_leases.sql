-- A run's server holds it by a lease it renews while it works. A server whose lease lapsed (a
-- database outage, a frozen process) may have its runs taken over by another, and from then on
-- every write it attempts for them is refused: the executor column is the fencing token.
ALTER TABLE runs ADD COLUMN lease_until timestamptz;
