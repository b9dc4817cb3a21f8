package migrations_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/smpp-connector/smpp-connector/migrations"
)

var _ = Describe("Apply", func() {
	var latest int64

	BeforeEach(func() {
		names, err := fs.Glob(migrations.FS(), "*.sql")
		Expect(err).NotTo(HaveOccurred())
		Expect(names).NotTo(BeEmpty())
		latest = int64(len(names)) // versions are numbered 1..n
	})

	It("brings a fresh database to the newest version, and is a no-op the second time", func(ctx SpecContext) {
		dsn := env.FreshDatabase(GinkgoT(), false)
		res, err := migrations.Apply(ctx, dsn)
		Expect(err).NotTo(HaveOccurred())
		Expect(res.Version).To(Equal(latest))
		Expect(res.Applied).To(HaveLen(int(latest)))
		Expect(res.Applied[0]).To(Equal("00001_message_correlations.sql"))

		again, err := migrations.Apply(ctx, dsn)
		Expect(err).NotTo(HaveOccurred())
		Expect(again.Applied).To(BeEmpty())
		Expect(again.Version).To(Equal(latest))
	})

	It("serialises replicas that migrate at the same time", func(ctx SpecContext) {
		dsn := env.FreshDatabase(GinkgoT(), false)
		var wg sync.WaitGroup
		errs := make([]error, 4)
		applied := make([]int, 4)
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				res, err := migrations.Apply(ctx, dsn)
				errs[i], applied[i] = err, len(res.Applied)
			}()
		}
		wg.Wait()
		for _, err := range errs {
			Expect(err).NotTo(HaveOccurred())
		}
		total := 0
		for _, n := range applied {
			total += n
		}
		Expect(total).To(Equal(int(latest)), "each migration applied exactly once")
	})

	It("rolls the newest migration back and forward again", func(ctx SpecContext) {
		dsn := env.FreshDatabase(GinkgoT(), false)
		_, err := migrations.Apply(ctx, dsn)
		Expect(err).NotTo(HaveOccurred())
		db, err := sql.Open("pgx", dsn)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(db.Close)

		Expect(migrations.Down(ctx, db)).To(Succeed())
		current, newest, err := migrations.Version(ctx, db)
		Expect(err).NotTo(HaveOccurred())
		Expect(current).To(Equal(latest - 1))
		Expect(newest).To(Equal(latest))

		res, err := migrations.ApplyDB(ctx, db)
		Expect(err).NotTo(HaveOccurred())
		Expect(res.Applied).To(HaveLen(1))
		Expect(res.Version).To(Equal(latest))
	})

	It("moves the receipts set aside in the inbox to the unmatched receipts, and back down (00010)", func(ctx SpecContext) {
		dsn := env.FreshDatabase(GinkgoT(), false)
		_, err := migrations.Apply(ctx, dsn)
		Expect(err).NotTo(HaveOccurred())
		db, err := sql.Open("pgx", dsn)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(db.Close)
		for current, _, err := migrations.Version(ctx, db); current > 9; current, _, err = migrations.Version(ctx, db) {
			Expect(err).NotTo(HaveOccurred())
			Expect(migrations.Down(ctx, db)).To(Succeed())
		}
		_, err = db.ExecContext(ctx, `INSERT INTO smpp.receipt_inbox (operator_id, smsc_key, smsc_message_id, receipt_state,
			received_at, raw, failed) VALUES ('mno-a', 'k1', 'raw-k1', 'BOGUS', now(), 'id:raw-k1', 'check constraint'),
			('mno-a', 'k2', 'raw-k2', 'DELIVERED', now(), 'id:raw-k2', NULL)`)
		Expect(err).NotTo(HaveOccurred())
		_, err = migrations.ApplyDB(ctx, db)
		Expect(err).NotTo(HaveOccurred())

		var reason, detail, key, raw string
		Expect(db.QueryRowContext(ctx, `SELECT reason, detail, smsc_key, convert_from(raw, 'UTF8')
			FROM smpp.unmatched_receipts`).Scan(&reason, &detail, &key, &raw)).To(Succeed())
		Expect([]string{reason, detail, key, raw}).To(Equal([]string{"failed", "check constraint", "k1", "id:raw-k1"}))
		var left string
		Expect(db.QueryRowContext(ctx, `SELECT string_agg(smsc_key, ',') FROM smpp.receipt_inbox`).Scan(&left)).To(Succeed())
		Expect(left).To(Equal("k2"), "the inbox keeps the receipt waiting to be drained")

		for current, _, err := migrations.Version(ctx, db); current > 9; current, _, err = migrations.Version(ctx, db) {
			Expect(err).NotTo(HaveOccurred())
			Expect(migrations.Down(ctx, db)).To(Succeed()) // 00010's down, and those of the migrations after it
		}
		Expect(db.QueryRowContext(ctx, `SELECT string_agg(smsc_key || ':' || coalesce(failed, '-'), ',' ORDER BY smsc_key)
			FROM smpp.receipt_inbox`).Scan(&left)).To(Succeed())
		Expect(left).To(Equal("k1:check constraint,k2:-"))
	})

	It("refuses an unknown reason for an unmatched receipt", func(ctx SpecContext) {
		conn, err := pgx.Connect(ctx, suiteDSN)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func() { conn.Close(context.Background()) })
		_, err = conn.Exec(ctx, `INSERT INTO smpp.unmatched_receipts (operator_id, reason, raw, received_at)
			VALUES ('mno-a', 'lost', '', now())`)
		var pgErr *pgconn.PgError
		Expect(errors.As(err, &pgErr)).To(BeTrue())
		Expect(pgErr.ConstraintName).To(Equal("unmatched_receipts_reason_check"))
	})
})

var _ = Describe("smpp.message_correlations", func() {
	var (
		conn *pgx.Conn
		p    string // prefixes the ids of a spec, so that specs never collide
	)

	BeforeEach(func(ctx SpecContext) {
		// The suite's database, migrated before the first spec.
		var err error
		conn, err = pgx.Connect(ctx, suiteDSN)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func() { conn.Close(context.Background()) })
		p = fmt.Sprintf("t%d-", time.Now().UnixNano())
	})

	insert := func(ctx context.Context, operator, smscID, msgID string, part, parts int) error {
		_, err := conn.Exec(ctx, `INSERT INTO smpp.message_correlations
			(operator_id, smsc_message_id, smsc_key, message_id, part_number, part_count) VALUES ($1, $2, $2, $3, $4, $5)`,
			p+operator, smscID, p+msgID, part, parts)
		return err
	}
	violation := func(constraint string) OmegaMatcher {
		return WithTransform(func(err error) string {
			var pgErr *pgconn.PgError
			if !errors.As(err, &pgErr) {
				return ""
			}
			return pgErr.ConstraintName
		}, Equal(constraint))
	}

	It("keeps one row per (operator, canonical SMSC key); the raw id is not unique (00009)", func(ctx SpecContext) {
		Expect(insert(ctx, "mno-a", "S1", "m1", 1, 1)).To(Succeed())
		Expect(insert(ctx, "mno-a", "S1", "m2", 1, 1)).To(violation("message_correlations_operator_smsc_canonical_key"))
		_, err := conn.Exec(ctx, `INSERT INTO smpp.message_correlations (operator_id, smsc_message_id, smsc_key, message_id)
			VALUES ($1, 'S1', 'other-key', $2)`, p+"mno-a", p+"m3")
		Expect(err).NotTo(HaveOccurred(), "the same raw id under another key (an id rule changed)")
	})

	It("lets two operators use the same SMSC message id", func(ctx SpecContext) {
		Expect(insert(ctx, "mno-a", "S1", "m1", 1, 1)).To(Succeed())
		Expect(insert(ctx, "mno-b", "S1", "m2", 1, 1)).To(Succeed())
	})

	It("keeps one row per (message id, part number), and rows of pending submits without an SMSC id", func(ctx SpecContext) {
		Expect(insert(ctx, "mno-a", "S1", "m1", 1, 2)).To(Succeed())
		Expect(insert(ctx, "mno-a", "S2", "m1", 2, 2)).To(Succeed())
		Expect(insert(ctx, "mno-a", "S3", "m1", 2, 2)).To(violation("message_correlations_message_part_key"))
		_, err := conn.Exec(ctx, `INSERT INTO smpp.message_correlations (operator_id, message_id) VALUES
			($1, $2), ($1, $3)`, p+"mno-a", p+"m2", p+"m3")
		Expect(err).NotTo(HaveOccurred(), "many pending rows may have no SMSC id yet")
	})

	It("refuses impossible parts, submit statuses and receipt states", func(ctx SpecContext) {
		Expect(insert(ctx, "mno-a", "S1", "m1", 3, 2)).To(violation("message_correlations_part_check"))
		Expect(insert(ctx, "mno-a", "S1", "m1", 0, 1)).To(violation("message_correlations_part_check"))
		_, err := conn.Exec(ctx, `INSERT INTO smpp.message_correlations (operator_id, message_id, submit_status)
			VALUES ($1, $2, 'sent')`, p+"mno-a", p+"m1")
		Expect(err).To(violation("message_correlations_submit_status_check"))
		_, err = conn.Exec(ctx, `INSERT INTO smpp.message_correlations (operator_id, message_id, receipt_state)
			VALUES ($1, $2, 'DELIVRD')`, p+"mno-a", p+"m1")
		Expect(err).To(violation("message_correlations_receipt_state_check"))
	})

	It("finds a receipt's row by (operator, canonical SMSC key) through an index", func(ctx SpecContext) {
		var plan string
		_, err := conn.Exec(ctx, "SET enable_seqscan = off")
		Expect(err).NotTo(HaveOccurred())
		Expect(conn.QueryRow(ctx, `EXPLAIN (FORMAT TEXT) SELECT message_id, part_number
			FROM smpp.message_correlations WHERE operator_id = 'mno-a' AND smsc_key = 'S1'`).Scan(&plan)).To(Succeed())
		Expect(plan).To(ContainSubstring("message_correlations_operator_smsc_canonical_key"))
	})
})
