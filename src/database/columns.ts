import { Column, ColumnOptions } from 'typeorm';

/**
 * Column helpers whose types mean the same on MySQL and SQLite, and match the migrations exactly
 * (the schema-agreement test fails if an entity and a migration drift apart).
 */
export const DateTimeColumn = (options: ColumnOptions = {}) => Column({ type: 'datetime', precision: 3, ...options });
export const VarcharColumn = (length: number, options: ColumnOptions = {}) => Column({ type: 'varchar', length, ...options });
