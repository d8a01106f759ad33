-- Yearly figures imported from Alma Analytics (by its API or an uploaded
-- export), for the years before Kauko: kept apart from Kauko's own
-- figures and labelled with where they came from. A later import of the
-- same year and measure replaces the value.
CREATE TABLE imported_figures (
    side        TEXT NOT NULL,
    year        BIGINT NOT NULL,
    measure     TEXT NOT NULL,
    value       BIGINT NOT NULL,
    source      TEXT NOT NULL,
    imported_by TEXT NOT NULL,
    imported_at TEXT NOT NULL,
    PRIMARY KEY (side, year, measure)
);
