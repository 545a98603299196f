-- 003: keyset pages of assets and leases in (created_at, id) order (getAssetsPage, getLeasesPage)
-- read only the page they return instead of sorting the whole table.
CREATE INDEX idx_assets_created ON assets(created_at, id);
CREATE INDEX idx_leases_created ON leases(created_at, id);
