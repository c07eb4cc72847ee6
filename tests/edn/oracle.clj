;; oracle.clj — Clojure's side of tests/edn/clojure-oracle (one JVM for the
;; whole batch). Arguments: OURS FILES.
;;   OURS: our printer's output, one value per line. For each line prints
;;     the same verdict as for FILES, below.
;;   FILES: a list of fixture paths, one per line. For each prints
;;     "accept <pr-str>", "empty" or "reject <message>", reading the file as
;;     exactly one EDN value (a second value is a rejection, as ours).
;; Values are read twice: with Clojure's own #inst/#uuid readers (which
;; validate), then keeping every tag as a tagged literal for printing, so the
;; text compares with ours, and with *print-namespace-maps* off (#:ns{...} is
;; not edn-format, and we refuse it). Control characters in strings and characters
;; print as \uXXXX: Clojure writes them raw, which our reader refuses for NUL.
(require '[clojure.edn :as edn]
         '[clojure.string :as str])

(defn- control? [c] (let [i (int c)] (or (< i 0x20) (= i 0x7f))))

(defmethod print-method String [^String s ^java.io.Writer w]
  (if (or *print-dup* *print-readably*)
    (do (.append w \")
        (dotimes [n (count s)]
          (let [c (.charAt s n)
                e (char-escape-string c)]
            (cond e (.write w ^String e)
                  (control? c) (.write w (format "\\u%04X" (int c)))
                  :else (.append w c))))
        (.append w \"))
    (.write w s))
  nil)

(defmethod print-method Character [^Character c ^java.io.Writer w]
  (if (or *print-dup* *print-readably*)
    (let [n (char-name-string c)]
      (cond n (.write w (str "\\" n))
            (control? c) (.write w (format "\\u%04X" (int c)))
            :else (do (.append w \\) (.append w c))))
    (.append w c))
  nil)

(def checking {:default tagged-literal})
(def keeping {:default tagged-literal
              :readers {'inst #(tagged-literal 'inst %)
                        'uuid #(tagged-literal 'uuid %)}})

(defn- one-line [s] (str/replace (str s) #"[\r\n]+" " "))

(defn- read-one
  "The single value in text s read with opts: [:value v], [:empty] or throws."
  [opts s]
  (let [r (java.io.PushbackReader. (java.io.StringReader. s))
        eof (Object.)
        v (edn/read (assoc opts :eof eof) r)]
    (cond (identical? v eof) [:empty]
          (not (identical? (edn/read (assoc opts :eof eof) r) eof))
          (throw (ex-info "a second value follows the first" {}))
          :else [:value v])))

(defn- judge
  "One line: the verdict on text s. NUL bytes (Clojure takes them in
  symbols) become <NUL> so the line stays text."
  [s]
  (-> (try
        (read-one checking s)
        (let [[k v] (read-one keeping s)]
          (if (= k :empty)
            "empty"
            (str "accept " (binding [*print-namespace-maps* false] (pr-str v)))))
        (catch Throwable e (str "reject " (one-line (.getMessage e)))))
      (str/replace "\u0000" "<NUL>")))

(let [[ours files] *command-line-args*]
  (doseq [line (str/split-lines (slurp ours))]
    (println (judge line)))
  (doseq [path (str/split-lines (slurp files))]
    (println (judge (slurp path :encoding "UTF-8"))))
  (flush))
