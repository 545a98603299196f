/**
 * The paths, operations and schemas of the HTTP API, generated from its OpenAPI document by
 * openapi-typescript. Do not edit: run `npm run client:generate` (a test fails when it is stale).
 */
export interface paths {
    "/health": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Liveness */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @enum {string} */
                            status: "ok";
                        };
                    };
                };
                /** @description The one error format of the API */
                "4XX": {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ApiError"];
                    };
                };
                /** @description The one error format of the API */
                "5XX": {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ApiError"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/system/auth": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Whether operational and write routes need the API key */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            apiKeyRequired: boolean;
                            /** @enum {string} */
                            scheme: "bearer";
                        };
                    };
                };
                /** @description The one error format of the API */
                "4XX": {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ApiError"];
                    };
                };
                /** @description The one error format of the API */
                "5XX": {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ApiError"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/ready": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Readiness: the database answers and the schema is current */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @enum {string} */
                            status: "ready";
                        };
                    };
                };
                /** @description The one error format of the API */
                "4XX": {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ApiError"];
                    };
                };
                /** @description The one error format of the API */
                "5XX": {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ApiError"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/system/status": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Backend, pool, table counts, backlogs, migrations and chain ingestion */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            mode: string;
                            backend: {
                                kind: string;
                                durable: boolean;
                                description: string;
                            };
                            facilitator: string;
                            pool: {
                                total: number;
                                idle: number;
                                waiting: number;
                                max: number;
                            } | null;
                            counts: {
                                [key: string]: {
                                    count: number;
                                    exact: boolean;
                                };
                            };
                            eventBacklog: {
                                count: number;
                            };
                            pendingPayments: {
                                store: string;
                                count: number;
                                damagedLines: number;
                            };
                            migrations: {
                                version: number;
                                name: string;
                                state: string;
                            }[];
                            uptimeSeconds: number;
                            chain?: ({
                                chainId?: number;
                                headBlock?: number | null;
                                safeBlock?: number | null;
                                ingestedBlock?: number | null;
                                processedBlock?: number | null;
                                lag?: number | null;
                                backlog?: number | null;
                                /** @description The last reorganization seen (null: none) */
                                lastReorg?: unknown;
                                /** @description Whether this process leads ingestion, or who does */
                                leader?: unknown;
                                /** @description The last ingestion error (null: none) */
                                lastError?: unknown;
                            } & {
                                [key: string]: unknown;
                            }) | null;
                        };
                    };
                };
                /** @description The one error format of the API */
                "4XX": {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ApiError"];
                    };
                };
                /** @description The one error format of the API */
                "5XX": {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ApiError"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/system/reconcile": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Ledger check (cached), pending payments and unresolved settlements */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            batchesChecked: number;
                            paymentsChecked: number;
                            differences: {
                                leaseId: string;
                                hourBucket: string;
                                batchId: string;
                                /** @description USDC minor units as decimal digits (exact: never a float) */
                                storedTotal: string;
                                storedCount: number;
                                /** @description USDC minor units as decimal digits (exact: never a float) */
                                paymentsTotal: string;
                                paymentsCount: number;
                            }[];
                            latePayments: {
                                leaseId: string;
                                hourBucket: string;
                                facilitatorTxHash: string;
                                /** @description USDC minor units as decimal digits (exact: never a float) */
                                amountMinorUnits: string;
                                carriedToBatchId: string | null;
                            }[];
                            pendingPayments: {
                                id: string;
                                facilitatorTxHash: string;
                                leaseId: string;
                                payload: {
                                    [key: string]: unknown;
                                };
                                error: string;
                                attempts: number;
                                /** Format: date-time */
                                createdAt: string;
                                resolvedAt: string | null;
                            }[];
                            damagedPendingLines: {
                                [key: string]: unknown;
                            }[];
                            unresolvedSettlements: ({
                                id: string;
                                state: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            damagedJournalLines: {
                                [key: string]: unknown;
                            }[];
                            consistent: boolean;
                            /** Format: date-time */
                            checkedAt: string;
                            /** Format: date-time */
                            nextCheckAfter: string;
                        };
                    };
                };
                /** @description The one error format of the API */
                "4XX": {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ApiError"];
                    };
                };
                /** @description The one error format of the API */
                "5XX": {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ApiError"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/system/activity": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Paid accesses since start and recorded payments per second over the last minute */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @description Width of the sliding window the rate is computed over */
                            windowSeconds: number;
                            /** @description Newly recorded payments per second over the window */
                            paymentsPerSecond: number;
                            recordedInWindow: number;
                            /** Format: date-time */
                            since: string;
                            totals: {
                                recorded: number;
                                replayed: number;
                                pending: number;
                            };
                        };
                    };
                };
                /** @description The one error format of the API */
                "4XX": {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ApiError"];
                    };
                };
                /** @description The one error format of the API */
                "5XX": {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ApiError"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/metrics": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Prometheus metrics */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Prometheus text exposition format */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "text/plain": string;
                    };
                };
                /** @description The one error format of the API */
                "4XX": {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ApiError"];
                    };
                };
                /** @description The one error format of the API */
                "5XX": {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ApiError"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/assets": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** List assets (keyset-paginated) */
        get: {
            parameters: {
                query?: {
                    limit?: number;
                    after?: string;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            items: components["schemas"]["Asset"][];
                            /** @description Pass as `after` for the next page; null on the last */
                            nextCursor: string | null;
                        };
                    };
                };
                /** @description The one error format of the API */
                "4XX": {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ApiError"];
                    };
                };
                /** @description The one error format of the API */
                "5XX": {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ApiError"];
                    };
                };
            };
        };
        put?: never;
        /** Register an asset */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        assetId: string;
                        chainId: number;
                        contractAddress: string;
                        tokenAddress: string;
                        metadata: {
                            [key: string]: unknown;
                        };
                        metadataHash: string;
                        blockNumber?: number;
                        transactionHash: string;
                    };
                };
            };
            responses: {
                /** @description A registered asset */
                201: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Asset"];
                    };
                };
                /** @description The one error format of the API */
                "4XX": {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ApiError"];
                    };
                };
                /** @description The one error format of the API */
                "5XX": {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ApiError"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/assets/by-token/{tokenAddress}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Get an asset by its token address */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    tokenAddress: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description A registered asset */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Asset"];
                    };
                };
                /** @description The one error format of the API */
                "4XX": {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ApiError"];
                    };
                };
                /** @description The one error format of the API */
                "5XX": {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ApiError"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/assets/{assetId}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Get an asset */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    assetId: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description A registered asset */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Asset"];
                    };
                };
                /** @description The one error format of the API */
                "4XX": {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ApiError"];
                    };
                };
                /** @description The one error format of the API */
                "5XX": {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ApiError"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/leases": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** List leases by status, asset, lessor or lessee (keyset-paginated) */
        get: {
            parameters: {
                query?: {
                    limit?: number;
                    after?: string;
                    status?: "pending" | "active" | "completed" | "terminated";
                    assetId?: string;
                    lessor?: string;
                    lessee?: string;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            items: components["schemas"]["Lease"][];
                            /** @description Pass as `after` for the next page; null on the last */
                            nextCursor: string | null;
                        };
                    };
                };
                /** @description The one error format of the API */
                "4XX": {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ApiError"];
                    };
                };
                /** @description The one error format of the API */
                "5XX": {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ApiError"];
                    };
                };
            };
        };
        put?: never;
        /** Create a lease (pending unless a status is given) */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        leaseId: string;
                        assetId: string;
                        chainId: number;
                        contractAddress: string;
                        lessor: string;
                        lessee: string;
                        agreement: {
                            [key: string]: unknown;
                        };
                        /** @enum {string} */
                        status?: "pending" | "active" | "completed" | "terminated";
                        blockNumber?: number;
                        transactionHash: string;
                    };
                };
            };
            responses: {
                /** @description A lease */
                201: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Lease"];
                    };
                };
                /** @description The one error format of the API */
                "4XX": {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ApiError"];
                    };
                };
                /** @description The one error format of the API */
                "5XX": {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ApiError"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/leases/{leaseId}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Get a lease */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    leaseId: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description A lease */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Lease"];
                    };
                };
                /** @description The one error format of the API */
                "4XX": {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ApiError"];
                    };
                };
                /** @description The one error format of the API */
                "5XX": {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ApiError"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/leases/{leaseId}/status": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        /** Move a lease along its lifecycle (pending -> active | terminated, active -> completed | terminated) */
        patch: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    leaseId: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        /** @enum {string} */
                        status: "pending" | "active" | "completed" | "terminated";
                    };
                };
            };
            responses: {
                /** @description A lease */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Lease"];
                    };
                };
                /** @description The one error format of the API */
                "4XX": {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ApiError"];
                    };
                };
                /** @description The one error format of the API */
                "5XX": {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ApiError"];
                    };
                };
            };
        };
        trace?: never;
    };
    "/api/leases/{leaseId}/agreement": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        /** Attach or replace the lease's offchain terms (its agreement document), e.g. for a lease born on chain */
        put: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    leaseId: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        agreement: {
                            [key: string]: unknown;
                        };
                    };
                };
            };
            responses: {
                /** @description A lease */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Lease"];
                    };
                };
                /** @description The one error format of the API */
                "4XX": {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ApiError"];
                    };
                };
                /** @description The one error format of the API */
                "5XX": {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ApiError"];
                    };
                };
            };
        };
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/events/unprocessed": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Unprocessed events, oldest first */
        get: {
            parameters: {
                query?: {
                    limit?: number;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            items: components["schemas"]["ContractEvent"][];
                        };
                    };
                };
                /** @description The one error format of the API */
                "4XX": {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ApiError"];
                    };
                };
                /** @description The one error format of the API */
                "5XX": {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ApiError"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/events/backlog": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Count of unprocessed events */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            count: number;
                        };
                    };
                };
                /** @description The one error format of the API */
                "4XX": {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ApiError"];
                    };
                };
                /** @description The one error format of the API */
                "5XX": {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ApiError"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/events/{txHash}/{logIndex}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Get an event */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    txHash: string;
                    logIndex: number;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description A contract event */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ContractEvent"];
                    };
                };
                /** @description The one error format of the API */
                "4XX": {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ApiError"];
                    };
                };
                /** @description The one error format of the API */
                "5XX": {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ApiError"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/events": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Ingest an event (idempotent: 200 with the stored one when known, 201 when new) */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        eventName: string;
                        contractAddress: string;
                        blockNumber: number;
                        transactionHash: string;
                        logIndex: number;
                        args?: {
                            [key: string]: unknown;
                        };
                        processed?: boolean;
                    };
                };
            };
            responses: {
                /** @description A contract event */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ContractEvent"];
                    };
                };
                /** @description A contract event */
                201: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ContractEvent"];
                    };
                };
                /** @description The one error format of the API */
                "4XX": {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ApiError"];
                    };
                };
                /** @description The one error format of the API */
                "5XX": {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ApiError"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/leases/{leaseId}/payments": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** A lease's payments (keyset-paginated) */
        get: {
            parameters: {
                query?: {
                    limit?: number;
                    after?: string;
                };
                header?: never;
                path: {
                    leaseId: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            items: components["schemas"]["Payment"][];
                            /** @description Pass as `after` for the next page; null on the last */
                            nextCursor: string | null;
                        };
                    };
                };
                /** @description The one error format of the API */
                "4XX": {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ApiError"];
                    };
                };
                /** @description The one error format of the API */
                "5XX": {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ApiError"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/leases/{leaseId}/batches": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** A lease's hourly batches, open and settled (keyset-paginated) */
        get: {
            parameters: {
                query?: {
                    limit?: number;
                    after?: string;
                };
                header?: never;
                path: {
                    leaseId: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            items: components["schemas"]["HourlyBatch"][];
                            /** @description Pass as `after` for the next page; null on the last */
                            nextCursor: string | null;
                        };
                    };
                };
                /** @description The one error format of the API */
                "4XX": {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ApiError"];
                    };
                };
                /** @description The one error format of the API */
                "5XX": {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ApiError"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/leases/{leaseId}/hour-totals": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Total and count of the hour containing `at` (default now) */
        get: {
            parameters: {
                query?: {
                    at?: string;
                };
                header?: never;
                path: {
                    leaseId: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            leaseId: string;
                            bucket: string;
                            /** @description USDC minor units as decimal digits (exact: never a float) */
                            totalAmountMinorUnits: string;
                            paymentCount: number;
                        };
                    };
                };
                /** @description The one error format of the API */
                "4XX": {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ApiError"];
                    };
                };
                /** @description The one error format of the API */
                "5XX": {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ApiError"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/leases/{leaseId}/revenue/daily": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** A lease's revenue per UTC day over [from, to), newest first (default: the last 30 days) */
        get: {
            parameters: {
                query?: {
                    from?: string;
                    to?: string;
                    limit?: number;
                    after?: string;
                };
                header?: never;
                path: {
                    leaseId: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** Format: date-time */
                            from: string;
                            /** Format: date-time */
                            to: string;
                            items: {
                                leaseId: string;
                                day: string;
                                /** @description USDC minor units as decimal digits (exact: never a float) */
                                totalAmountMinorUnits: string;
                                paymentCount: number;
                            }[];
                            nextCursor: string | null;
                        };
                    };
                };
                /** @description The one error format of the API */
                "4XX": {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ApiError"];
                    };
                };
                /** @description The one error format of the API */
                "5XX": {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ApiError"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/assets/{assetId}/revenue": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** An asset's revenue over [from, to), split by lease */
        get: {
            parameters: {
                query?: {
                    from?: string;
                    to?: string;
                };
                header?: never;
                path: {
                    assetId: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            assetId: string;
                            /** Format: date-time */
                            from: string;
                            /** Format: date-time */
                            to: string;
                            /** @description USDC minor units as decimal digits (exact: never a float) */
                            totalAmountMinorUnits: string;
                            paymentCount: number;
                            leases: {
                                leaseId: string;
                                /** @description USDC minor units as decimal digits (exact: never a float) */
                                totalAmountMinorUnits: string;
                                paymentCount: number;
                            }[];
                        };
                    };
                };
                /** @description The one error format of the API */
                "4XX": {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ApiError"];
                    };
                };
                /** @description The one error format of the API */
                "5XX": {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ApiError"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/leases/{leaseId}/x402/requirements": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The price of the current interval, as x402 payment requirements */
        get: {
            parameters: {
                query?: {
                    mode?: "second" | "batch-5s";
                };
                header?: never;
                path: {
                    leaseId: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @enum {integer} */
                            x402Version: 1;
                            accepts: {
                                /** @enum {string} */
                                scheme: "exact";
                                network: string;
                                asset: string;
                                /** @description USDC minor units as decimal digits (exact: never a float) */
                                amount: string;
                                /** @description USDC minor units as decimal digits (exact: never a float) */
                                maxAmountRequired: string;
                                payTo: string;
                                resource: string;
                                description: string;
                                mimeType: string;
                                maxTimeoutSeconds: number;
                                /** @enum {string} */
                                mode: "second" | "batch-5s";
                                intervalSeconds: number;
                                /** Format: date-time */
                                intervalStart: string;
                                extra: {
                                    name: string;
                                    version: string;
                                };
                            }[];
                            quote: {
                                leaseId: string;
                                /** @enum {string} */
                                mode: "second" | "batch-5s";
                                intervalIndex: number;
                                intervalsPerHour: number;
                                /** @description USDC minor units as decimal digits (exact: never a float) */
                                hourlyPriceMinorUnits: string;
                            };
                        };
                    };
                };
                /** @description The one error format of the API */
                "4XX": {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ApiError"];
                    };
                };
                /** @description The one error format of the API */
                "5XX": {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ApiError"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/leases/{leaseId}/access": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Paid access: answers 402 with requirements until a payment header pays the current interval
         * @description Send the signed payment in `X-PAYMENT` (x402 v1) or `PAYMENT-SIGNATURE` (x402 v2). A 402 carries the v1 requirements in its body and the v2 ones in `PAYMENT-REQUIRED`; a 200 carries the settlement receipt in `PAYMENT-RESPONSE` and `X-PAYMENT-RESPONSE`. Resending the same payment inside its interval is granted again and recorded once.
         */
        post: {
            parameters: {
                query?: {
                    mode?: "second" | "batch-5s";
                };
                header?: {
                    /** @description x402 v1 payment payload (base64 JSON) */
                    "x-payment"?: string;
                    /** @description x402 v2 payment payload (base64 JSON) */
                    "payment-signature"?: string;
                };
                path: {
                    leaseId: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Access granted: the payment settled. `ledger` says whether it is recorded, a replay of a recorded one, or pending (money moved; the ledger row follows). */
                200: {
                    headers: {
                        /** @description x402 v2 SettleResponse receipt (base64 JSON) */
                        "payment-response"?: string;
                        /** @description x402 v1 receipt (same value) (base64 JSON) */
                        "x-payment-response"?: string;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @enum {string} */
                            access: "granted";
                            leaseId: string;
                            /** @enum {string} */
                            mode: "second" | "batch-5s";
                            /** @enum {string} */
                            ledger: "recorded" | "replayed";
                            payment: components["schemas"]["Payment"];
                        } | {
                            /** @enum {string} */
                            access: "granted";
                            leaseId: string;
                            /** @enum {string} */
                            mode: "second" | "batch-5s";
                            /** @enum {string} */
                            ledger: "pending";
                            facilitatorTxHash: string;
                            intentId: string;
                            pendingId?: string;
                        };
                    };
                };
                /** @description Payment required or refused: pay one of `accepts` and retry with X-PAYMENT (v1) or PAYMENT-SIGNATURE (v2) */
                402: {
                    headers: {
                        /** @description x402 v2 PaymentRequired (CAIP-2 network) (base64 JSON) */
                        "payment-required"?: string;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @enum {integer} */
                            x402Version: 1;
                            error: string;
                            accepts: {
                                /** @enum {string} */
                                scheme: "exact";
                                network: string;
                                asset: string;
                                /** @description USDC minor units as decimal digits (exact: never a float) */
                                amount: string;
                                /** @description USDC minor units as decimal digits (exact: never a float) */
                                maxAmountRequired: string;
                                payTo: string;
                                resource: string;
                                description: string;
                                mimeType: string;
                                maxTimeoutSeconds: number;
                                /** @enum {string} */
                                mode: "second" | "batch-5s";
                                intervalSeconds: number;
                                /** Format: date-time */
                                intervalStart: string;
                                extra: {
                                    name: string;
                                    version: string;
                                };
                            }[];
                            code: string;
                            details: {
                                [key: string]: unknown;
                            };
                        };
                    };
                };
                /** @description The one error format of the API */
                "4XX": {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ApiError"];
                    };
                };
                /** @description The one error format of the API */
                "5XX": {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ApiError"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/admin/reset": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Delete every record (development mode only) */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @enum {boolean} */
                            cleared: true;
                        };
                    };
                };
                /** @description The one error format of the API */
                "4XX": {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ApiError"];
                    };
                };
                /** @description The one error format of the API */
                "5XX": {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ApiError"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/admin/settlements/resolve": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Resolve journaled settlements with the facilitator */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            recorded: string[];
                            notSettled: string[];
                            unknown: ({
                                id: string;
                                state: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            failed: {
                                id: string;
                                code: string;
                                message: string;
                            }[];
                            remaining: number;
                        };
                    };
                };
                /** @description The one error format of the API */
                "4XX": {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ApiError"];
                    };
                };
                /** @description The one error format of the API */
                "5XX": {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ApiError"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/admin/pending/replay": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Record pending payments in the ledger */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            attempted: number;
                            recorded: string[];
                            failed: {
                                facilitatorTxHash: string;
                                leaseId: string;
                                code: string;
                                error: string;
                            }[];
                            skipped: number;
                            remaining: number;
                        };
                    };
                };
                /** @description The one error format of the API */
                "4XX": {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ApiError"];
                    };
                };
                /** @description The one error format of the API */
                "5XX": {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ApiError"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/admin/chain/acknowledge-reorg": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Acknowledge the deep reorgs chain ingestion saw, so readiness passes again (who and why are recorded) */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        by: string;
                        note?: string;
                    };
                };
            };
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            by: string;
                            note: string;
                            acknowledgedAt: string;
                            reorgs: {
                                detectedAt: string;
                                depth: number;
                                fromBlock: number;
                                deep: boolean;
                            }[];
                        };
                    };
                };
                /** @description The one error format of the API */
                "4XX": {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ApiError"];
                    };
                };
                /** @description The one error format of the API */
                "5XX": {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ApiError"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
}
export type webhooks = Record<string, never>;
export interface components {
    schemas: {
        /** @description The one error format of the API */
        ApiError: {
            error: {
                /** @description Stable machine-readable code */
                code: string;
                message: string;
                details: {
                    [key: string]: unknown;
                };
            };
        };
        /** @description A registered asset */
        Asset: {
            id: string;
            assetId: string;
            chainId: number;
            contractAddress: string;
            tokenAddress: string;
            metadata: {
                [key: string]: unknown;
            };
            metadataHash: string;
            blockNumber: number;
            transactionHash: string;
            /** Format: date-time */
            createdAt: string;
            /** Format: date-time */
            updatedAt: string;
        };
        /** @description A lease */
        Lease: {
            id: string;
            leaseId: string;
            assetId: string;
            chainId: number;
            contractAddress: string;
            lessor: string;
            lessee: string;
            agreement: {
                [key: string]: unknown;
            };
            /** @enum {string} */
            status: "pending" | "active" | "completed" | "terminated";
            blockNumber: number;
            transactionHash: string;
            /** Format: date-time */
            createdAt: string;
            /** Format: date-time */
            updatedAt: string;
        };
        /** @description A contract event */
        ContractEvent: {
            id: string;
            eventName: string;
            contractAddress: string;
            blockNumber: number;
            transactionHash: string;
            logIndex: number;
            args: {
                [key: string]: unknown;
            };
            processed: boolean;
            /** Format: date-time */
            createdAt: string;
        };
        /** @description A payment in the ledger */
        Payment: {
            id: string;
            leaseId: string;
            /** @enum {string} */
            mode: "second" | "batch-5s";
            intervalSeconds: number;
            /** @description USDC minor units as decimal digits (exact: never a float) */
            amountMinorUnits: string;
            payer: string;
            /** Format: date-time */
            paymentTimestamp: string;
            facilitatorTxHash: string;
            bucketSlot: string;
            /** Format: date-time */
            createdAt: string;
            /** @enum {boolean} */
            late?: true;
            carriedToBatchId?: string | null;
        };
        /** @description An hourly batch of a lease's payments */
        HourlyBatch: {
            id: string;
            leaseId: string;
            hourBucket: string;
            /** @description USDC minor units as decimal digits (exact: never a float) */
            totalAmountMinorUnits: string;
            paymentCount: number;
            revenueRoundId: string | null;
            settlementTxHash: string | null;
            /** Format: date-time */
            startedAt: string;
            /** Format: date-time */
            closedAt: string;
            /** Format: date-time */
            createdAt: string;
        };
    };
    responses: never;
    parameters: never;
    requestBodies: never;
    headers: never;
    pathItems: never;
}
export type $defs = Record<string, never>;
export type operations = Record<string, never>;
