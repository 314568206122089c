-- One database per service: no service reads another's tables.
CREATE DATABASE registration OWNER cloverleaf;
CREATE DATABASE scheduling OWNER cloverleaf;
CREATE DATABASE notifications OWNER cloverleaf;
