-- The housing department's database (unsilo demo). Portable SQL: SQLite, PostgreSQL, MariaDB.
-- Every table has updated_at, the time the row was last written (inside the demo night).

CREATE TABLE communities (
    community_code VARCHAR(12) NOT NULL,
    community_name VARCHAR(50) NOT NULL,
    street_code VARCHAR(9) NOT NULL,
    street_name VARCHAR(50) NOT NULL,
    district_code VARCHAR(6) NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (community_code)
);

-- tenure: 01 public rental (公租房), 02 owned (自有), 03 private rental (私人租赁), 04 other
CREATE TABLE housing_units (
    unit_id VARCHAR(16) NOT NULL,
    address VARCHAR(200),
    community_code VARCHAR(12),
    grid_code VARCHAR(14),
    floor_area DECIMAL(12,2),
    rooms INTEGER,
    tenure VARCHAR(2),
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (unit_id)
);

CREATE TABLE households (
    household_id VARCHAR(16) NOT NULL,
    head_id_number VARCHAR(18),
    unit_id VARCHAR(16),
    community_code VARCHAR(12),
    members INTEGER,
    registered_on DATE,
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (household_id)
);

-- status: 1 active, 2 ended, 3 suspended
CREATE TABLE tenancies (
    tenancy_id VARCHAR(16) NOT NULL,
    household_id VARCHAR(16),
    unit_id VARCHAR(16),
    start_date DATE,
    end_date DATE,
    monthly_rent DECIMAL(12,2),
    arrears_months INTEGER,
    status VARCHAR(2),
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (tenancy_id)
);

-- subsidy_type: R1 rental subsidy (租赁补贴), R2 rent reduction (租金减免), R3 other
CREATE TABLE subsidies (
    subsidy_id VARCHAR(16) NOT NULL,
    household_id VARCHAR(16),
    subsidy_type VARCHAR(2),
    amount DECIMAL(12,2),
    start_date DATE,
    end_date DATE,
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (subsidy_id)
);
